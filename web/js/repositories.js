// Catalog repositories: list (last sync, status, last error), add, remove
// (confirmed), sync now (all, or one) showing what changed. The shapes are the
// daemon's: GET/POST /repositories, DELETE /repositories/{id}, POST /sync[?id=N].

import { api, missingEndpoint } from './api.js';
import { clear, h, id, modal, toast, when } from './dom.js';

// One repository's sync result as a sentence: what came, changed or left.
function syncSummary(r) {
  if (r.status === 'error') return `${r.name}: sync failed — ${r.error || 'no reason given'}`;
  const parts = [];
  for (const [k, label] of [['added', 'added'], ['updated', 'updated'], ['removed', 'removed']]) {
    if (r[k] && r[k].length) parts.push(`${label} ${r[k].join(', ')}`);
  }
  if (r.problems && r.problems.length) parts.push(`skipped: ${r.problems.join('; ')}`);
  return `${r.name}: ${parts.length ? parts.join('; ') : (r.status === 'unchanged' ? 'unchanged' : 'nothing changed')}`;
}

export async function repositoriesView(main) {
  const body = h('div', {});
  const nid = id('rname');
  const uid = id('rurl');
  const msg = h('div', { role: 'status', class: 'sync-result', 'aria-live': 'polite' });
  clear(main, h('h1', {}, 'Repositories'), body);

  function unavailable(what) {
    return h('p', { class: 'notice', role: 'status' },
      `${what} is not available on this server (the daemon has no such endpoint yet).`);
  }

  async function sync(repoId) {
    clear(msg, h('p', {}, 'Syncing…'));
    try {
      const r = await api.sync(repoId);
      const list = (r && r.repositories) || [];
      clear(msg, list.length ? h('ul', { class: 'sync-list' }, list.map((x) => h('li',
        { class: x.status === 'error' ? 'error' : '', 'data-repo': x.name }, syncSummary(x))))
        : h('p', {}, 'No enabled remote repository to sync.'));
    } catch (e) {
      clear(msg, h('p', { class: 'error' }, missingEndpoint(e) ? 'Sync is not available on this server.' : e.message));
    }
    await load();
  }

  async function load() {
    let data;
    try {
      data = await api.repositories();
    } catch (e) {
      clear(body, missingEndpoint(e) ? unavailable('Managing repositories')
        : h('p', { class: 'error-box', role: 'alert' }, e.message));
      return;
    }
    const repos = data.repositories || [];
    const name = h('input', { id: nid, required: true, autocomplete: 'off' });
    const url = h('input', { id: uid, required: true, placeholder: 'https://…/ or file:///…', autocomplete: 'off' });
    const addError = h('p', { class: 'error', role: 'alert' });
    const status = (r) => {
      if (r.status === 'error') return h('span', { class: 'error' }, `error: ${r.lastError || 'no reason given'}`);
      if (r.status === 'ok' && r.lastError) return h('span', {}, 'ok', h('br'), h('span', { class: 'meta' }, r.lastError));
      return r.status || '—';
    };
    clear(body,
      h('div', { class: 'toolbar' }, h('button', {
        type: 'button', class: 'primary', onclick: () => sync(),
      }, 'Sync all now')),
      msg,
      h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', { class: 'visually-hidden' }, 'Catalog repositories'),
        h('thead', {}, h('tr', {}, ['Name', 'URL', 'Enabled', 'Plugins', 'Last sync', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, repos.length ? repos.map((r) => h('tr', { 'data-repo': r.name },
          h('td', {}, r.name), h('td', { class: 'mono' }, r.url || (r.type === 'local' ? 'built in' : '')),
          h('td', {}, r.enabled === false ? 'no' : 'yes'),
          h('td', {}, String(r.pluginCount ?? '')),
          h('td', {}, r.lastSyncedAt ? when(r.lastSyncedAt) : 'never'),
          h('td', {}, status(r)),
          h('td', {}, r.type === 'local' ? h('span', { class: 'meta' }, 'the plugin directory') : [
            h('button', { type: 'button', 'aria-label': `Sync ${r.name}`, onclick: () => sync(r.id) }, 'Sync'),
            ' ',
            h('button', {
              type: 'button', class: 'danger', 'aria-label': `Remove ${r.name}`,
              onclick: async () => {
                const ok = await modal(`Remove ${r.name}?`, (b, close) => {
                  b.append(h('p', {}, 'Its plugins leave the catalog; installed ones keep running.'));
                  return [h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
                    h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, 'Remove')];
                });
                if (!ok) return;
                try { await api.removeRepository(r.id); toast(`${r.name} removed`); } catch (e) { toast(e.message); }
                await load();
              },
            }, 'Remove')]))) : h('tr', {}, h('td', { colspan: 7 }, 'No repositories.'))))),
      h('h2', {}, 'Add a repository'),
      h('form', {
        class: 'toolbar',
        onsubmit: async (ev) => {
          ev.preventDefault();
          addError.textContent = '';
          try {
            const r = await api.addRepository({ name: name.value.trim(), url: url.value.trim() });
            toast(`Repository ${r && r.name ? r.name : ''} added; sync it to fetch its plugins`);
            await load();
          } catch (e) {
            addError.textContent = e.message;
          }
        },
      }, h('div', { class: 'field' }, h('label', { for: nid }, 'Name'), name),
      h('div', { class: 'field grow' }, h('label', { for: uid }, 'Catalog URL'), url),
      h('button', { type: 'submit' }, 'Add')),
      addError);
  }
  await load();
  return null;
}
