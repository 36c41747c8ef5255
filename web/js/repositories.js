// Catalog repositories: list, add, remove, sync now. A server without these
// endpoints says so; nothing is made up.

import { api, missingEndpoint } from './api.js';
import { clear, h, id, modal, toast, when } from './dom.js';

export async function repositoriesView(main) {
  const body = h('div', {});
  const nid = id('rname');
  const uid = id('rurl');
  const msg = h('p', { role: 'status' });
  clear(main, h('h1', {}, 'Repositories'), body);

  function unavailable(what) {
    return h('p', { class: 'notice', role: 'status' },
      `${what} is not available on this server (the daemon has no such endpoint yet).`);
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
    const repos = data.repositories || data.repos || [];
    const name = h('input', { id: nid, required: true, autocomplete: 'off' });
    const url = h('input', { id: uid, required: true, type: 'url', placeholder: 'https://…/ or file:///…', autocomplete: 'off' });
    clear(body,
      h('div', { class: 'toolbar' }, h('button', {
        type: 'button', class: 'primary',
        onclick: async () => {
          msg.textContent = 'Syncing…';
          try {
            const r = await api.sync();
            msg.textContent = r && r.message ? r.message : 'Synced.';
          } catch (e) {
            msg.textContent = missingEndpoint(e) ? 'Sync is not available on this server.' : e.message;
          }
          load();
        },
      }, 'Sync now'), msg),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', { class: 'visually-hidden' }, 'Catalog repositories'),
        h('thead', {}, h('tr', {}, ['Name', 'URL', 'Enabled', 'Last sync', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, repos.length ? repos.map((r) => h('tr', {},
          h('td', {}, r.name), h('td', {}, r.url), h('td', {}, r.enabled === false ? 'no' : 'yes'),
          h('td', {}, when(r.lastSync || r.last_sync || r.syncedAt)),
          h('td', {}, r.lastError || r.last_error ? h('span', { class: 'error' }, r.lastError || r.last_error) : (r.status || 'ok')),
          h('td', {}, h('button', {
            type: 'button', class: 'danger', 'aria-label': `Remove ${r.name}`,
            onclick: async () => {
              const ok = await modal(`Remove ${r.name}?`, (b, close) => {
                b.append(h('p', {}, 'Its plugins leave the catalog; installed ones keep running.'));
                return [h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
                  h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, 'Remove')];
              });
              if (!ok) return;
              try { await api.removeRepository(r.id ?? r.name); toast(`${r.name} removed`); } catch (e) { toast(e.message); }
              load();
            },
          }, 'Remove')))) : h('tr', {}, h('td', { colspan: 6 }, 'No repositories.'))))),
      h('h2', {}, 'Add a repository'),
      h('form', {
        class: 'toolbar',
        onsubmit: async (ev) => {
          ev.preventDefault();
          try {
            await api.addRepository({ name: name.value.trim(), url: url.value.trim() });
            toast('Repository added');
            load();
          } catch (e) {
            msg.textContent = e.message;
          }
        },
      }, h('div', { class: 'field' }, h('label', { for: nid }, 'Name'), name),
      h('div', { class: 'field grow' }, h('label', { for: uid }, 'Catalog URL'), url),
      h('button', { type: 'submit' }, 'Add')));
  }
  await load();
  return null;
}
