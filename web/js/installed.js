// Installed plugins: tabs All/Enabled/Disabled, live state badges (the
// daemon's state stream, polling when it cannot be had), the enable toggle,
// Configure (Form and JSON), upgrade and roll back, uninstall with
// confirmation, and a plugin's status and recent log lines in detail.

import { api } from './api.js';
import { clear, h, id, modal, toast, when } from './dom.js';
import { configForm } from './configform.js';
import { icon, permissionList } from './marketplace.js';
import { watchStates, withLive } from './live.js';

// Without the stream, how often states are fetched: the list every 1.5 s,
// one plugin's page every 0.5 s (a crash is often over, restarted, within a
// second). With it, states come as they change and nothing is polled.
const POLL_MS = 1500;
const DETAIL_POLL_MS = 500;
const LOG_LINES = 100;

// Says whether the badges are live or polled (for people, and for the test).
function liveNote() {
  const el = h('p', { class: 'meta live-note', role: 'status', 'data-live': 'polling' },
    'Updating every few seconds.');
  return {
    element: el,
    set(live) {
      el.dataset.live = live ? 'stream' : 'polling';
      el.textContent = live ? 'Live: states update as they change.' : 'Updating every few seconds.';
    },
  };
}

export function stateOf(p) {
  if (!p.enabled) return 'disabled';
  return (p.runtime && p.runtime.state) || 'starting';
}

function badge(p) {
  const s = stateOf(p);
  return h('span', { class: `badge ${s}`, 'data-state': s }, s);
}

function lastCrash(p) {
  const x = p.runtime && p.runtime.last_exit;
  return x ? (x.description || x.reason) : null;
}

async function catalogByName() {
  try {
    const c = await api.catalog({});
    return new Map(c.plugins.map((p) => [p.name, p]));
  } catch {
    return new Map();
  }
}

// Plugins with an enable or disable under way: a repaint meanwhile (a live
// state change) shows the switch as asked for, and not usable until the answer.
const switching = new Set();

function toggle(p, after) {
  const tid = id('tgl');
  const input = h('input', { type: 'checkbox', id: tid, role: 'switch', checked: !!p.enabled,
    disabled: p.managed === false || switching.has(p.name) });
  input.addEventListener('change', async () => {
    const want = input.checked;
    input.disabled = true;
    switching.add(p.name);
    p.enabled = want; // the model the view repaints from, until the list is read again
    try {
      await (want ? api.enable(p.name) : api.disable(p.name));
      toast(`${p.name} ${want ? 'enabled' : 'disabled'}`);
    } catch (e) {
      p.enabled = !want;
      input.checked = !want;
      toast(e.message);
    }
    switching.delete(p.name);
    input.disabled = false;
    after();
  });
  return h('label', { class: 'switch', for: tid }, input, h('span', {}, 'Enabled'),
    h('span', { class: 'visually-hidden' }, ` ${p.name}`));
}

export async function configureFlow(p, cat) {
  const schema = (cat && cat.configSchema) || {};
  const form = configForm(schema, p.config || {});
  const status = h('div', { role: 'status' });
  const saved = await modal(`Configure ${p.name}`, (body, close) => {
    body.append(form.element, status);
    const save = h('button', {
      type: 'button', class: 'primary',
      onclick: async () => {
        const v = form.value();
        if (!v.ok) return;
        save.disabled = true;
        try {
          await api.configure(p.name, v.raw !== undefined ? JSON.parse(v.raw) : v.config);
          close(true);
        } catch (e) {
          form.showErrors(e.fieldErrors || [], e.message);
          save.disabled = false;
        }
      },
    }, 'Save');
    return [h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'), save];
  });
  form.destroy();
  if (saved) toast(`Configuration of ${p.name} saved; the plugin has it now`);
  return saved;
}

// The daemon keeps a plugin's storage across an uninstall (a reinstall finds
// it) unless ?purge=true; the dialog offers that, unchecked.
export async function uninstallFlow(p) {
  const purgeId = id('purge');
  const purge = h('input', { type: 'checkbox', id: purgeId });
  const ok = await modal(`Uninstall ${p.name}?`, (body, close) => {
    body.append(h('p', {}, 'The plugin is stopped; its files and its settings are removed. ' +
      'The data it stored are kept for a later install unless you delete them too.'),
    h('p', { class: 'check' }, purge, ' ', h('label', { for: purgeId }, 'Also delete the data it stored (purge)')));
    return [h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
      h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, 'Uninstall')];
  });
  if (!ok) return false;
  try {
    await api.uninstall(p.name, purge.checked);
    toast(purge.checked ? `${p.name} uninstalled, its data deleted` : `${p.name} uninstalled; its data kept`);
    return true;
  } catch (e) {
    toast(e.message);
    return false;
  }
}

async function changeVersion(p, version, verb) {
  try {
    await api.install(p.name, { version });
    toast(`${p.name} ${verb} to ${version}`);
  } catch (e) {
    toast(e.message);
  }
}

function card(p, cat, refresh) {
  const crash = lastCrash(p);
  const rt = p.runtime || {};
  return h('article', { class: 'card', 'data-plugin': p.name, 'aria-labelledby': `i-${p.name}` },
    h('div', { class: 'head' }, icon(cat || p),
      h('div', {}, h('div', { class: 'title', id: `i-${p.name}` },
        h('a', { href: `#/installed/${encodeURIComponent(p.name)}` }, (cat && cat.displayName) || p.name)),
      h('div', { class: 'meta' }, h('span', {}, `v${p.version}`), badge(p)))),
    h('div', { class: 'meta' },
      h('span', {}, `restarts: ${rt.restarts ?? 0}`),
      rt.pid ? h('span', {}, `pid ${rt.pid}`) : null),
    crash ? h('p', { class: 'desc error' }, `Last crash: ${crash}`) : null,
    newer(p, cat) ? h('p', { class: 'desc' }, h('a', { href: `#/installed/${encodeURIComponent(p.name)}` },
      `Version ${newer(p, cat)} is available`)) : null,
    p.error ? h('p', { class: 'desc error' }, p.error) : null,
    h('div', { class: 'actions' }, toggle(p, refresh),
      p.managed === false ? h('span', { class: 'meta' }, 'run with --plugin') : [
        h('button', { type: 'button', onclick: async () => { if (await configureFlow(p, cat)) refresh(); } }, 'Configure'),
        h('button', { type: 'button', class: 'danger', onclick: async () => { if (await uninstallFlow(p)) refresh(); } }, 'Uninstall')]));
}

export async function installedView(main) {
  const tabs = ['All', 'Enabled', 'Disabled'];
  let current = 'All';
  let timer = 0;
  let stopped = false;
  let cat = await catalogByName();
  const list = h('div', { class: 'grid', id: 'installed-list' });
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Show' },
    tabs.map((t) => h('button', { type: 'button', role: 'tab', 'aria-controls': 'installed-list', dataset: { tab: t },
      onclick: () => { current = t; paintTabs(); refresh(); } }, t)));
  tablist.addEventListener('keydown', (ev) => {
    const i = tabs.indexOf(current);
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
      current = tabs[(i + (ev.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      paintTabs();
      tablist.querySelector(`[data-tab="${current}"]`).focus();
      refresh();
    }
  });
  function paintTabs() {
    for (const b of tablist.children) {
      b.setAttribute('aria-selected', String(b.dataset.tab === current));
      b.tabIndex = b.dataset.tab === current ? 0 : -1;
    }
  }
  let last = '';
  let plugins = null; // the last list the API gave, with live states applied
  let live = false;
  const note = liveNote();
  function show() {
    const shown = plugins.filter((p) => current === 'All' || (current === 'Enabled') === !!p.enabled);
    // Repaint only on change, so focus and open controls survive the updates.
    const key = JSON.stringify([current, shown]);
    if (key === last) return;
    last = key;
    clear(list, shown.length ? shown.map((p) => card(p, cat.get(p.name), refresh))
      : h('p', { class: 'notice' }, current === 'All' ? 'Nothing is installed yet: see the Marketplace.' : `No ${current.toLowerCase()} plugins.`));
  }
  async function refresh() {
    clearTimeout(timer);
    try {
      const data = await api.installed();
      if (stopped) return;
      plugins = data.plugins;
      if (plugins.some((p) => !cat.has(p.name) && p.managed !== false)) cat = await catalogByName();
      show();
    } catch (e) {
      if (e.status !== 401) clear(list, h('p', { class: 'error-box', role: 'alert' }, e.message));
      last = '';
    }
    if (!stopped && !live) timer = setTimeout(refresh, POLL_MS);
  }
  paintTabs();
  clear(main, h('h1', {}, 'Installed plugins'), note.element, tablist, list);
  await refresh();
  const unwatch = watchStates({
    ready: () => { live = true; note.set(true); refresh(); },
    state: (ev) => {
      const p = plugins && plugins.find((x) => x.name === ev.name);
      if (!p) { refresh(); return; } // installed meanwhile: the list has it
      p.runtime = withLive(p.runtime, ev);
      show();
    },
    removed: () => refresh(), // disabled or uninstalled: the list says which
    down: () => { if (live) { live = false; note.set(false); refresh(); } },
  });
  return () => { stopped = true; clearTimeout(timer); unwatch(); };
}

// The JSON of a plugin without what changes on every read (how long it has
// been in its state), so that a repaint happens only when something shows.
function shownKey(p) {
  const rt = p.runtime ? { ...p.runtime } : null;
  if (rt) delete rt.state_for_ms;
  return JSON.stringify({ ...p, runtime: rt });
}

function logLine(x) {
  const t = new Date(x.at);
  const ts = Number.isNaN(t.getTime()) ? '' : t.toISOString().slice(11, 19);
  return `${ts} ${x.level.padEnd(5)} ${x.line}`;
}

// The plugin's recent log lines (GET logs/{name}): a panel of its own, so
// that state repaints leave its scroll position alone.
function logsPanel(name) {
  const pre = h('pre', { class: 'log', tabindex: '0', 'aria-label': `Recent log lines of ${name}` });
  const status = h('p', { class: 'meta', role: 'status' });
  let busy = false;
  async function load() {
    if (busy) return;
    busy = true;
    try {
      const r = await api.logs(name, LOG_LINES);
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      const text = r.lines.map(logLine).join('\n');
      if (pre.textContent !== text) {
        pre.textContent = text;
        if (atEnd) pre.scrollTop = pre.scrollHeight;
      }
      status.textContent = r.count ? `The last ${r.count} line${r.count === 1 ? '' : 's'} (secrets masked).`
        : 'Nothing logged yet.';
    } catch (e) {
      pre.textContent = '';
      status.textContent = e.status === 404 ? 'No log lines: the plugin has no host now (disabled?).' : e.message;
    }
    busy = false;
  }
  const element = h('section', { class: 'panel logs', 'aria-labelledby': `logs-${name}` },
    h('div', { class: 'panel-head' }, h('h2', { id: `logs-${name}` }, 'Recent log lines'),
      h('button', { type: 'button', onclick: load }, 'Refresh')),
    status, pre);
  return { element, load };
}

async function rollback(p) {
  try {
    const r = await api.rollback(p.name);
    toast(`${p.name} rolled back to ${(r && r.plugin && r.plugin.version) || p.previousVersion}`);
  } catch (e) {
    toast(e.message);
  }
}

// Semantic versions compared (1.10.0 > 1.9.0; a pre-release before its release).
export function semverCmp(a, b) {
  const parse = (v) => {
    const [core, pre] = String(v).split('+')[0].split(/-(.*)/s);
    return { n: core.split('.').map((x) => Number.parseInt(x, 10) || 0), pre: pre || '' };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if ((x.n[i] || 0) !== (y.n[i] || 0)) return (x.n[i] || 0) - (y.n[i] || 0);
  if (x.pre === y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  return x.pre < y.pre ? -1 : 1;
}

// The newest version of the catalog when it is newer than the one installed, else null.
function newer(p, cat) {
  const versions = ((cat && cat.versions) || []).slice().sort(semverCmp);
  const newest = versions.length ? versions[versions.length - 1] : null;
  return p.managed !== false && newest && semverCmp(newest, p.version) > 0 ? newest : null;
}

function versionsPanel(p, cat, refresh) {
  const versions = ((cat && cat.versions) || []).slice().sort(semverCmp);
  const newest = versions.length ? versions[versions.length - 1] : (cat && cat.version);
  const older = versions.filter((v) => v !== p.version);
  const rid = id('ver');
  const verSel = h('select', { id: rid }, older.map((v) => h('option', { value: v }, v)));
  const managed = p.managed !== false;
  const upgrade = managed && newest && semverCmp(newest, p.version) > 0;
  return [
    h('h2', {}, 'Versions'),
    h('p', {}, `Running ${p.version}`, p.previousVersion ? `; before it, ${p.previousVersion}` : ''),
    upgrade
      ? h('p', {}, h('button', { type: 'button', class: 'primary', onclick: () => changeVersion(p, newest, 'upgraded').then(refresh) }, `Upgrade to ${newest}`))
      : h('p', { class: 'meta' }, 'This is the newest version in the catalog.'),
    managed && p.previousVersion
      ? h('p', {}, h('button', { type: 'button', onclick: () => rollback(p).then(refresh) }, `Roll back to ${p.previousVersion}`))
      : null,
    managed && older.length ? h('form', { onsubmit: (ev) => { ev.preventDefault(); changeVersion(p, verSel.value, 'changed').then(refresh); } },
      h('label', { for: rid }, 'Change to version'), ' ', verSel, ' ', h('button', { type: 'submit' }, 'Change version'))
      : (managed && p.previousVersion ? null : h('p', { class: 'meta' }, 'No other version to roll back to.')),
  ];
}

export async function installedDetailView(main, name) {
  let timer = 0;
  let logTimer = 0;
  let soon = 0;
  let stopped = false;
  let live = false;
  let current = null;
  const cat = (await catalogByName()).get(name);
  const body = h('div', {});
  const logs = logsPanel(name);
  const note = liveNote();
  let last = '';
  async function refresh() {
    clearTimeout(timer);
    let p;
    try {
      p = await api.installedOne(name);
    } catch (e) {
      if (stopped) return;
      if (e.status === 404 || e.status === 409) {
        current = null;
        last = '';
        clear(body, h('p', { class: 'notice' }, `${name} is not installed.`));
        return;
      }
      if (e.status !== 401) clear(body, h('p', { class: 'error-box', role: 'alert' }, e.message));
      if (!live) timer = setTimeout(refresh, DETAIL_POLL_MS);
      return;
    }
    if (stopped) return;
    show(p);
    if (!live) timer = setTimeout(refresh, DETAIL_POLL_MS);
  }
  function show(p) {
    current = p;
    const key = shownKey(p);
    if (key !== last) {
      last = key;
      paint(p);
    }
  }
  function paint(p) {
    const rt = p.runtime || {};
    const sb = rt.sandbox || {};
    const x = rt.last_exit;
    clear(body,
      h('div', { class: 'detail' },
        h('section', { class: 'panel', 'aria-label': 'State' },
          h('p', {}, 'State: ', badge(p)),
          h('div', { class: 'actions' }, toggle(p, refresh),
            p.managed === false ? null : [
              h('button', { type: 'button', onclick: async () => { if (await configureFlow(p, cat)) refresh(); } }, 'Configure'),
              h('button', { type: 'button', class: 'danger', onclick: async () => { if (await uninstallFlow(p)) location.hash = '#/installed'; } }, 'Uninstall')]),
          h('dl', { class: 'kv' },
            h('dt', {}, 'Version'), h('dd', {}, p.version),
            h('dt', {}, 'Process'), h('dd', {}, rt.pid ? `pid ${rt.pid}` : '—'),
            h('dt', {}, 'Restarts'), h('dd', {}, String(rt.restarts ?? 0)),
            h('dt', {}, 'Crashes'), h('dd', {}, String(rt.crashes ?? 0)),
            h('dt', {}, 'Events'), h('dd', {}, `${rt.delivered ?? 0} delivered, ${rt.failed ?? 0} failed, ${rt.dropped ?? 0} dropped, ${rt.queue_depth ?? 0} queued`),
            h('dt', {}, 'Installed'), h('dd', {}, `${when(p.installedAt)} by ${p.installedBy || '—'}`),
            h('dt', {}, 'Last crash'), h('dd', {}, x && x.reason !== 'none' ? (x.description || x.reason) : 'none'),
            rt.restart_in_ms ? [h('dt', {}, 'Restart in'), h('dd', {}, `${rt.restart_in_ms} ms`)] : null),
          p.error ? h('p', { class: 'error-box' }, p.error) : null,
          x && x.stderr && x.stderr.length ? [
            h('h2', {}, 'Its last output before it ended'),
            h('pre', { class: 'log', tabindex: '0', 'aria-label': 'Last lines the plugin wrote before it ended' }, x.stderr.join('\n'))] : null),
        h('aside', { class: 'panel', 'aria-label': 'Sandbox and versions' },
          h('h2', {}, 'Sandbox'),
          (sb.layers || []).length
            ? h('ul', { class: 'layers', 'aria-label': 'Sandbox layers' }, sb.layers.map((l) => h('li', { class: 'pill' }, l)))
            : h('p', { class: 'meta' }, 'Shown while a host runs.'),
          sb.missing && sb.missing.length ? h('p', { class: 'error' }, `Missing: ${sb.missing.join(', ')}`) : null,
          h('h2', {}, 'Permissions'), permissionList(cat && cat.permissions),
          versionsPanel(p, cat, refresh))));
  }
  // A live change: the badge at once, then the whole status (its output lines) and the log.
  function later() {
    clearTimeout(soon);
    soon = setTimeout(() => { refresh(); logs.load(); }, 250);
  }
  function pollLogs() {
    clearTimeout(logTimer);
    logTimer = setTimeout(() => { if (!stopped) { logs.load(); pollLogs(); } }, 5000);
  }
  clear(main, h('p', {}, h('a', { href: '#/installed' }, '← Installed')),
    h('h1', {}, (cat && cat.displayName) || name), note.element, body, logs.element);
  await refresh();
  logs.load();
  pollLogs();
  const unwatch = watchStates({
    ready: () => { live = true; note.set(true); clearTimeout(timer); refresh(); },
    state: (ev) => {
      if (ev.name !== name) return;
      if (current) show({ ...current, runtime: withLive(current.runtime, ev) });
      later();
    },
    removed: (ev) => { if (ev.name === name) later(); },
    down: () => { if (live) { live = false; note.set(false); refresh(); } },
  });
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(logTimer);
    clearTimeout(soon);
    unwatch();
  };
}
