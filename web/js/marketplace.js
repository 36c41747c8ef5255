// Marketplace: the catalog with search, filters and sort; a plugin's detail
// page (permissions, versions, ratings); Install -> configuration form -> Activate.

import { api } from './api.js';
import { clear, h, id, modal, stars, toast, when } from './dom.js';
import { configForm } from './configform.js';

const DANGEROUS = new Set(['network', 'admin']);

export function icon(p) {
  // Only our own origin may serve images (CSP img-src 'self'): a remote iconUrl
  // is not fetched, the plugin's initial stands in.
  if (p.iconUrl && p.iconUrl.startsWith('/')) {
    return h('img', { class: 'icon', src: p.iconUrl, alt: '' });
  }
  return h('span', { class: 'icon', 'aria-hidden': 'true' }, (p.displayName || p.name || '?').charAt(0).toUpperCase());
}

export function permissionList(perms) {
  if (!perms || !perms.length) return h('p', {}, 'No permissions requested.');
  return h('ul', { class: 'perms', 'aria-label': 'Permissions requested' }, perms.map((p) => h('li', {},
    h('span', { class: DANGEROUS.has(p) ? 'pill danger' : 'pill' }, p),
    DANGEROUS.has(p) ? h('span', { class: 'error' }, p === 'admin'
      ? ' — every permission, and platform events' : ' — may make HTTP requests to other hosts') : null)));
}

function card(p) {
  const href = `#/marketplace/${encodeURIComponent(p.name)}`;
  return h('article', { class: 'card', 'aria-labelledby': `c-${p.name}` },
    h('div', { class: 'head' }, icon(p),
      h('div', {}, h('div', { class: 'title', id: `c-${p.name}` }, h('a', { href }, p.displayName || p.name)),
        h('div', { class: 'meta' }, h('span', {}, `v${p.version}`), h('span', {}, p.category || 'Uncategorised'),
          p.type ? h('span', {}, p.type) : null))),
    h('p', { class: 'desc' }, p.description || ''),
    h('div', { class: 'meta' },
      h('span', { title: 'installs' }, `${p.installCount ?? 0} installs`),
      h('span', {}, h('span', { class: 'stars', 'aria-hidden': 'true' }, stars(p.avgRating)),
        h('span', { class: 'visually-hidden' }, p.avgRating == null ? 'not rated yet' : `rated ${p.avgRating} of 5`),
        ` ${p.ratingCount ? `(${p.ratingCount})` : ''}`)),
    h('div', { class: 'actions' },
      p.installed
        ? h('a', { class: 'button', href: `#/installed/${encodeURIComponent(p.name)}` }, p.enabled ? 'Installed' : 'Installed (disabled)')
        : h('button', { type: 'button', class: 'primary', 'aria-label': `Install ${p.displayName || p.name}`, onclick: () => installFlow(p) }, 'Install'),
      h('a', { href, 'aria-label': `Details of ${p.displayName || p.name}` }, 'Details')));
}

export async function marketplaceView(main) {
  const qid = id('q');
  const cid = id('cat');
  const tid = id('type');
  const sid = id('sort');
  const state = { q: '', category: '', type: '', sort: 'popular' };
  const results = h('div', { class: 'grid', 'aria-live': 'polite' });
  const count = h('p', { class: 'meta', role: 'status' });
  const catSel = h('select', { id: cid }, h('option', { value: '' }, 'All categories'));
  const typeSel = h('select', { id: tid }, h('option', { value: '' }, 'All types'));
  const search = h('input', { id: qid, type: 'search', placeholder: 'name, description, tag', autocomplete: 'off' });
  const sortSel = h('select', { id: sid },
    h('option', { value: 'popular' }, 'Most installed'), h('option', { value: 'rating' }, 'Best rated'),
    h('option', { value: 'newest' }, 'Newest'), h('option', { value: 'name' }, 'Name'));
  let seq = 0;
  let known = false;

  async function load() {
    const mine = ++seq;
    const params = Object.fromEntries(Object.entries(state).filter(([, v]) => v));
    let data;
    try {
      data = await api.catalog(params);
    } catch (e) {
      clear(results, h('p', { class: 'error-box', role: 'alert' }, e.message));
      return;
    }
    if (mine !== seq) return; // a newer search answered first
    if (!known) {
      // Filters offer what the unfiltered catalog has.
      known = true;
      const cats = [...new Set(data.plugins.map((p) => p.category).filter(Boolean))].sort();
      const types = [...new Set(data.plugins.map((p) => p.type).filter(Boolean))].sort();
      catSel.append(...cats.map((c) => h('option', { value: c }, c)));
      typeSel.append(...types.map((t) => h('option', { value: t }, t)));
    }
    count.textContent = `${data.count} plugin${data.count === 1 ? '' : 's'}`;
    clear(results, data.plugins.length ? data.plugins.map(card)
      : h('p', { class: 'notice' }, 'No plugin matches.'));
  }

  let timer = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = search.value.trim(); load(); }, 250);
  });
  catSel.addEventListener('change', () => { state.category = catSel.value; load(); });
  typeSel.addEventListener('change', () => { state.type = typeSel.value; load(); });
  sortSel.addEventListener('change', () => { state.sort = sortSel.value; load(); });

  clear(main, h('h1', {}, 'Marketplace'),
    h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); state.q = search.value.trim(); load(); } },
      h('div', { class: 'field grow' }, h('label', { for: qid }, 'Search'), search),
      h('div', { class: 'field' }, h('label', { for: cid }, 'Category'), catSel),
      h('div', { class: 'field' }, h('label', { for: tid }, 'Type'), typeSel),
      h('div', { class: 'field' }, h('label', { for: sid }, 'Sort by'), sortSel)),
    count, results);
  await load();
  return () => clearTimeout(timer);
}

// Install -> the form generated from the manifest's configSchema -> Activate.
export async function installFlow(p, version) {
  const schema = p.configSchema || {};
  const form = configForm(schema, p.defaultConfig || {});
  const status = h('div', { role: 'status' });
  const done = await modal(`Install ${p.displayName || p.name} ${version || p.version}`, (body, close) => {
    body.append(h('p', {}, p.description || ''),
      h('h3', {}, 'Permissions'), permissionList(p.permissions),
      h('h3', {}, 'Configuration'), form.element, status);
    const activate = h('button', {
      type: 'button', class: 'primary',
      onclick: async () => {
        const v = form.value();
        if (!v.ok) return;
        activate.disabled = true;
        status.textContent = 'Installing…';
        const bodyText = v.raw !== undefined
          ? `{"config": ${v.raw}${version ? `, "version": ${JSON.stringify(version)}` : ''}}`
          : JSON.stringify(version ? { config: v.config, version } : { config: v.config });
        try {
          await api.install(p.name, bodyText);
          close(true);
        } catch (e) {
          status.textContent = '';
          form.showErrors(e.fieldErrors || [], e.message);
          activate.disabled = false;
        }
      },
    }, 'Activate');
    return [h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'), activate];
  });
  form.destroy();
  if (done) {
    toast(`${p.displayName || p.name} installed and activated`);
    location.hash = `#/installed/${encodeURIComponent(p.name)}`;
  }
  return done;
}

function ratingForm(name, after) {
  const rid = id('rating');
  const vid = id('review');
  const msg = h('p', { role: 'status' });
  const sel = h('select', { id: rid, required: true },
    [5, 4, 3, 2, 1].map((n) => h('option', { value: String(n) }, `${n} — ${'★'.repeat(n)}`)));
  const text = h('textarea', { id: vid, rows: 3, maxlength: 4096 });
  return h('form', {
    class: 'rate',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api.rate(name, Number(sel.value), text.value || undefined);
        msg.textContent = 'Thanks, your rating is saved.';
        after();
      } catch (e) {
        msg.textContent = e.message;
      }
    },
  }, h('h3', {}, 'Rate it'),
  h('label', { for: rid }, 'Rating'), h('div', {}, sel),
  h('label', { for: vid }, 'Review (optional)'), text,
  h('div', {}, h('button', { type: 'submit' }, 'Save rating')), msg);
}

export async function pluginView(main, name) {
  const data = await api.catalog({ q: name });
  const p = data.plugins.find((x) => x.name === name);
  if (!p) {
    clear(main, h('h1', {}, name), h('p', { class: 'notice' }, 'No such plugin in the catalog.'),
      h('a', { href: '#/marketplace' }, 'Back to the marketplace'));
    return null;
  }
  const reviews = h('div', {});
  async function loadRatings() {
    try {
      const r = await api.ratings(name);
      clear(reviews, h('p', {}, h('span', { class: 'stars', 'aria-hidden': 'true' }, stars(r.average)),
        ` ${r.average ?? '—'} from ${r.count} rating${r.count === 1 ? '' : 's'}`),
      r.ratings.length ? h('ul', { class: 'reviews' }, r.ratings.map((x) => h('li', {},
        h('strong', {}, x.user), ' ', h('span', { class: 'stars', 'aria-hidden': 'true' }, '★'.repeat(x.rating)),
        h('span', { class: 'visually-hidden' }, `${x.rating} of 5`),
        x.review ? h('p', {}, x.review) : null, h('span', { class: 'meta' }, when(x.updatedAt))))) : h('p', {}, 'No reviews yet.'));
    } catch (e) {
      clear(reviews, h('p', { class: 'error' }, e.message));
    }
  }
  // The README as text (the daemon's GET readme/{name}); none is said quietly.
  const readme = h('section', { class: 'readme-box', 'aria-labelledby': `readme-${p.name}` },
    h('h2', { id: `readme-${p.name}` }, 'README'), h('p', { class: 'meta' }, 'Loading…'));
  api.readme(name).then((r) => {
    clear(readme, h('h2', { id: `readme-${p.name}` }, 'README'),
      h('pre', { class: 'readme', tabindex: '0', 'aria-label': `README of ${p.displayName || p.name}` }, r.readme));
  }).catch((e) => {
    clear(readme, h('h2', { id: `readme-${p.name}` }, 'README'),
      h('p', { class: 'meta' }, e.status === 404 ? 'This plugin has no README here.' : e.message));
  });
  const versions = (p.versions || []).slice().reverse();
  clear(main,
    h('p', {}, h('a', { href: '#/marketplace' }, '← Marketplace')),
    h('div', { class: 'head card-head' }, icon(p), h('h1', {}, p.displayName || p.name)),
    h('div', { class: 'detail' },
      h('section', { class: 'panel', 'aria-label': 'About' },
        h('p', {}, p.description || ''),
        readme,
        h('h2', {}, 'Permissions requested'), permissionList(p.permissions),
        h('h2', {}, 'Ratings and reviews'), reviews, ratingForm(name, loadRatings)),
      h('aside', { class: 'panel', 'aria-label': 'Facts' },
        h('dl', { class: 'kv' },
          h('dt', {}, 'Name'), h('dd', {}, p.name),
          h('dt', {}, 'Version'), h('dd', {}, p.version),
          h('dt', {}, 'Category'), h('dd', {}, p.category || '—'),
          h('dt', {}, 'Type'), h('dd', {}, p.type || '—'),
          h('dt', {}, 'Author'), h('dd', {}, p.author || '—'),
          h('dt', {}, 'License'), h('dd', {}, p.license || '—'),
          h('dt', {}, 'Repository'), h('dd', {}, p.repository || '—'),
          h('dt', {}, 'Installs'), h('dd', {}, String(p.installCount ?? 0)),
          h('dt', {}, 'Tags'), h('dd', {}, (p.tags || []).join(', ') || '—')),
        h('h2', {}, 'Versions'),
        h('ul', { 'aria-label': 'Versions' }, versions.map((v) => h('li', {}, v, v === p.installedVersion ? ' (installed)' : ''))),
        h('div', { class: 'actions' }, p.installed
          ? h('a', { class: 'button', href: `#/installed/${encodeURIComponent(p.name)}` }, 'Manage the installed plugin')
          : h('button', { type: 'button', class: 'primary', onclick: () => installFlow(p) }, 'Install')))));
  await loadRatings();
  return null;
}
