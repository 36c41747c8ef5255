// The configuration form: generated from the plugin's configSchema by
// json-editor (vendored from npm, see scripts/vendor-web), with a JSON tab
// beside it. Secrets (format "password", writeOnly, sensitive, or a name
// such as apiKey, as the daemon masks them) are password fields that are
// never pre-filled: the API shows them as "********", the form shows them
// empty, and an empty one is sent back as "********", which the daemon
// replaces with the stored value.

import { h, id } from './dom.js';

export const MASK = '********';
// As the daemon's secrets.c tells a secret by its name (a display hint here:
// what the API masks is what comes back as "********").
const SECRET_WORDS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'privatekey',
  'accesskey', 'signingkey', 'credential', 'authorization', 'webhookurl', 'connectionstring'];
const SECRET_SUFFIXES = ['pwd', 'auth', 'dsn', 'webhook', 'cookie'];

function isSecret(schema, key) {
  if (schema && (schema.sensitive === true || schema.writeOnly === true || schema.format === 'password')) {
    return true;
  }
  const low = String(key).toLowerCase().replace(/[-_. ]/g, '');
  return SECRET_WORDS.some((w) => low.includes(w)) || SECRET_SUFFIXES.some((w) => low.endsWith(w));
}

// A copy of the schema for the form: secrets become password inputs with no default.
function prepareSchema(schema, key = '') {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out = { ...schema };
  if (out.properties && typeof out.properties === 'object') {
    out.properties = {};
    // A boolean "required" is json-editor's "always show this field": optional
    // fields stay on the form (with their defaults) instead of vanishing when
    // the current config lacks them. The server validates with the real schema.
    for (const [k, v] of Object.entries(schema.properties)) {
      const p = prepareSchema(v, k);
      out.properties[k] = p && typeof p === 'object' ? { ...p, required: true } : p;
    }
  }
  if (out.items && typeof out.items === 'object') {
    out.items = Array.isArray(out.items) ? out.items.map((s) => prepareSchema(s)) : prepareSchema(out.items);
  }
  for (const k of ['definitions', 'patternProperties']) {
    if (out[k] && typeof out[k] === 'object') {
      out[k] = Object.fromEntries(Object.entries(out[k]).map(([n, s]) => [n, prepareSchema(s)]));
    }
  }
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(out[k])) out[k] = out[k].map((s) => prepareSchema(s));
  }
  if (key && isSecret(schema, key) && (!schema.type || schema.type === 'string')) {
    out.type = 'string';
    out.format = 'password';
    delete out.default;
    out.options = { ...(out.options || {}), inputAttributes: { autocomplete: 'new-password' } };
  }
  return out;
}

// Pointers ("/a/b") of the masked values in a config, replaced by "" in a copy.
function unmask(config, base = '', masked = new Set()) {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return [config, masked];
  const out = {};
  for (const [k, v] of Object.entries(config)) {
    const ptr = `${base}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (v === MASK) {
      masked.add(ptr);
      out[k] = '';
    } else {
      out[k] = v && typeof v === 'object' && !Array.isArray(v) ? unmask(v, ptr, masked)[0] : v;
    }
  }
  return [out, masked];
}

function getPtr(obj, ptr) {
  let cur = obj;
  for (const part of ptr.split('/').slice(1)) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = cur[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function setPtr(obj, ptr, value) {
  const parts = ptr.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!cur[p] || typeof cur[p] !== 'object') return;
    cur = cur[p];
  }
  cur[parts[parts.length - 1]] = value;
}

// JSON Pointer "/a/0/b" -> json-editor's "root.a.0.b".
export function pointerToPath(ptr) {
  if (!ptr || ptr === '/') return 'root';
  return ['root', ...ptr.replace(/^#/, '').split('/').slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))].join('.');
}

let themeReady = false;
// json-editor's html theme, minus what the CSP forbids: its hidden labels
// set style attributes, which a strict style-src refuses, so ours use a class.
function defineTheme(JSONEditor) {
  if (themeReady) return;
  const Base = JSONEditor.defaults.themes.html;
  class StreamSpaceTheme extends Base {
    getHiddenLabel(text) {
      const el = document.createElement('label');
      el.textContent = text;
      el.className = 'visually-hidden';
      return el;
    }
    getHiddenText(text) {
      const el = document.createElement('span');
      el.textContent = text;
      el.className = 'visually-hidden';
      return el;
    }
    visuallyHidden(el) {
      if (el) el.classList.add('visually-hidden');
    }
    getOptInCheckbox(formname) {
      const container = document.createElement('span');
      const label = this.getHiddenLabel(`${formname} opt-in`);
      const checkbox = document.createElement('input');
      label.setAttribute('for', `${formname}-opt-in`);
      checkbox.type = 'checkbox';
      checkbox.id = `${formname}-opt-in`;
      checkbox.classList.add('json-editor-opt-in');
      container.append(checkbox, label);
      return { label, checkbox, container };
    }
  }
  JSONEditor.defaults.themes.streamspace = StreamSpaceTheme;
  themeReady = true;
}

/*
 * A form for schema with config as its values (secrets masked as the API
 * sends them). Returns {element, value(): {ok, config|text}, showErrors(list),
 * destroy()}. value() gives the config to send, or the JSON tab's raw text.
 */
export function configForm(schema, config) {
  const JSONEditor = window.JSONEditor;
  const tabForm = id('tab');
  const tabJson = id('tab');
  const panelForm = id('panel');
  const panelJson = id('panel');
  const jsonId = id('json');
  const [start, masked] = unmask(config || {});
  // A stored secret that is not a string (a whole object the daemon masks)
  // cannot be edited field by field: it leaves the form and is sent back masked.
  const form = prepareSchema(schema);
  const keptWhole = [];
  for (const ptr of masked) {
    const parts = ptr.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let sch = form;
    for (const p of parts.slice(0, -1)) sch = sch && sch.properties && sch.properties[p];
    const last = parts[parts.length - 1];
    const leaf = sch && sch.properties && sch.properties[last];
    if (leaf && leaf.type && leaf.type !== 'string') {
      sch.properties = { ...sch.properties };
      delete sch.properties[last];
      keptWhole.push(ptr);
      setPtr(start, ptr, undefined);
    }
  }
  const haveSchema = schema && typeof schema === 'object' &&
    schema.properties && Object.keys(schema.properties).length > 0;
  const topErrors = h('div', { class: 'form-errors', 'aria-live': 'assertive' });
  const formHolder = h('div', { class: 'je-form' });
  const textarea = h('textarea', { id: jsonId, rows: 14, spellcheck: 'false', class: 'mono' });
  const jsonError = h('p', { class: 'error', role: 'alert' });
  // The errors of the last try, listed by path in the JSON tab as well.
  const jsonList = h('ul', { class: 'form-errors json-errors', 'aria-label': 'Errors' });
  let mode = haveSchema ? 'form' : 'json';
  let editor = null;

  if (haveSchema && JSONEditor) {
    defineTheme(JSONEditor);
    editor = new JSONEditor(formHolder, {
      schema: form,
      startval: Object.keys(start).length ? start : undefined,
      theme: 'streamspace',
      iconlib: null,
      disable_theme_rules: true,
      disable_collapse: true,
      disable_edit_json: true,
      disable_properties: true,
      disable_array_delete_all_rows: true,
      disable_array_delete_last_row: true,
      disable_array_reorder: false,
      prompt_before_delete: false,
      show_errors: 'never',
      show_opt_in: false,
      use_default_values: true,
      display_required_only: false,
      required_by_default: false,
    });
  }

  // A stored secret shows as an empty field that says so.
  if (editor) {
    editor.on('ready', () => {
      for (const ptr of masked) {
        const ed = editor.getEditor(pointerToPath(ptr));
        if (ed && ed.input) ed.input.placeholder = 'stored — leave empty to keep it';
      }
    });
  }

  // The config the form holds, with untouched secrets sent back masked.
  function formValue() {
    const v = structuredClone(editor.getValue());
    for (const ptr of masked) if (getPtr(v, ptr) === '' || keptWhole.includes(ptr)) setPtr(v, ptr, MASK);
    return v;
  }

  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Edit as' },
    h('button', { type: 'button', role: 'tab', id: tabForm, 'aria-controls': panelForm, onclick: () => select('form') }, 'Form'),
    h('button', { type: 'button', role: 'tab', id: tabJson, 'aria-controls': panelJson, onclick: () => select('json') }, 'JSON'));
  tabs.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
      select(mode === 'form' ? 'json' : 'form');
      tabs.querySelector('[aria-selected="true"]').focus();
    }
  });
  const pForm = h('div', { role: 'tabpanel', id: panelForm, 'aria-labelledby': tabForm },
    keptWhole.length ? h('p', { class: 'meta' }, `Stored secrets kept as they are: ${keptWhole.map((p) => p.slice(1)).join(', ')}.`) : null,
    haveSchema ? formHolder : h('p', { class: 'notice' }, 'This plugin declares no configuration fields; edit its configuration as JSON.'));
  const pJson = h('div', { role: 'tabpanel', id: panelJson, 'aria-labelledby': tabJson },
    h('label', { for: jsonId }, 'Configuration (JSON)'), h('div', { 'aria-live': 'assertive' }, jsonList), textarea, jsonError);
  textarea.value = JSON.stringify(config || {}, null, 2);

  function select(want) {
    jsonError.textContent = '';
    if (want === 'json' && mode === 'form' && editor) {
      textarea.value = JSON.stringify(formValue(), null, 2);
    } else if (want === 'form' && mode === 'json' && editor) {
      let v;
      try { v = JSON.parse(textarea.value); } catch (e) { jsonError.textContent = `Not valid JSON: ${e.message}`; return; }
      if (!v || typeof v !== 'object' || Array.isArray(v)) { jsonError.textContent = 'The form needs a JSON object.'; return; }
      const [u] = unmask(v, '', masked);
      editor.setValue(u);
    } else if (want === 'form' && !haveSchema) {
      // no form to show: the panel says so
    }
    mode = want;
    for (const [tab, panel, m] of [[tabs.children[0], pForm, 'form'], [tabs.children[1], pJson, 'json']]) {
      tab.setAttribute('aria-selected', String(mode === m));
      tab.tabIndex = mode === m ? 0 : -1;
      panel.hidden = mode !== m;
    }
  }
  select(mode);

  function clearErrors() {
    topErrors.replaceChildren();
    jsonList.replaceChildren();
    for (const el of formHolder.querySelectorAll('.field-error')) el.remove();
    for (const el of formHolder.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  }

  // list: [{path: "root.a" | pointer: "/a", message}]; shown at each field, else on top.
  function showErrors(list, fallback) {
    clearErrors();
    let first = null;
    for (const e of list) {
      const path = e.path && e.path.startsWith('root') ? e.path
        : pointerToPath(e.pointer ?? e.instancePath ?? e.path ?? '');
      const msg = e.message || e.reason || String(e);
      const ptr = typeof e.path === 'string' && !e.path.startsWith('root') ? e.path
        : (path === 'root' ? '' : `/${path.split('.').slice(1).join('/')}`);
      jsonList.append(h('li', { class: 'error', 'data-path': ptr }, `${ptr || '(the whole configuration)'}: ${msg}`));
      const ed = editor && path !== 'root' ? editor.getEditor(path) : null;
      const holder = ed && ed.container;
      if (holder && mode === 'form') {
        const eid = id('err');
        const input = ed.input || holder.querySelector('input, select, textarea');
        holder.append(h('p', { class: 'field-error je-error', id: eid, role: 'alert' }, msg));
        if (input) {
          input.setAttribute('aria-invalid', 'true');
          input.setAttribute('aria-describedby', eid);
          first = first || input;
        }
      } else if (mode === 'form') {
        topErrors.append(h('p', { class: 'error-box', role: 'alert' }, path === 'root' ? msg : `${path.replace(/^root\.?/, '')}: ${msg}`));
      }
    }
    if (!list.length && fallback) topErrors.append(h('p', { class: 'error-box', role: 'alert' }, fallback));
    if (first) first.focus();
  }

  return {
    element: h('form', { class: 'config-form', onsubmit: (ev) => ev.preventDefault() }, tabs, topErrors, pForm, pJson),
    // {ok: true, body} where body is the config object or raw JSON text; {ok: false} after showing errors.
    value() {
      clearErrors();
      if (mode === 'json' || !editor) {
        const text = textarea.value;
        try { JSON.parse(text); } catch (e) { jsonError.textContent = `Not valid JSON: ${e.message}`; return { ok: false }; }
        return { ok: true, raw: text };
      }
      const v = formValue();
      const errs = editor.validate().filter((e) => {
        // An untouched masked secret is fine: the daemon keeps the stored value.
        const ptr = `/${e.path.split('.').slice(1).join('/')}`;
        return !(masked.has(ptr) && getPtr(v, ptr) === MASK);
      });
      if (errs.length) {
        showErrors(errs);
        return { ok: false };
      }
      return { ok: true, config: v };
    },
    showErrors,
    destroy() { if (editor) editor.destroy(); },
  };
}
