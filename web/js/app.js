// The admin UI's shell: login, the hash router (#/marketplace, #/installed,
// #/repositories, with a plugin name for a detail page) and the navigation.
// Every view talks to the daemon through api.js only.

import { M, call, clearToken, setLogoutHandler, setToken, token } from './api.js';
import { clear, h, id } from './dom.js';
import { marketplaceView, pluginView } from './marketplace.js';
import { installedView, installedDetailView } from './installed.js';
import { repositoriesView } from './repositories.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let cleanup = null; // the current view's stop function (timers)

function loginView(message) {
  nav.hidden = true;
  const tid = id('token');
  const err = h('p', { class: 'error', role: 'alert' }, message || '');
  const input = h('input', { id: tid, type: 'password', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      const t = input.value.trim();
      if (!t) { err.textContent = 'Enter a token.'; return; }
      button.disabled = true;
      try {
        // Any valid token may read; the answer tells us the token works.
        await call('GET', `${M}/installed`, undefined, t);
        setToken(t);
        if (!location.hash || location.hash === '#/login') location.hash = '#/marketplace';
        route();
      } catch (e) {
        err.textContent = e.status === 401 ? 'That token was refused.' : e.message;
        button.disabled = false;
        input.focus();
      }
    },
  },
  h('label', { for: tid }, 'API token'),
  input,
  h('p', { class: 'muted' }, 'An admin token from ', h('code', {}, 'streamspaced token create'),
    ' (', h('code', {}, 'scripts/dev up'), ' prints one). It is kept in this tab only.'),
  err, button);
  clear(main, h('section', { class: 'login panel', 'aria-labelledby': 'login-h' },
    h('h1', { id: 'login-h' }, 'Log in'), form));
  input.focus();
}

setLogoutHandler((why) => {
  if (cleanup) { cleanup(); cleanup = null; }
  loginView(`Logged out: ${why}.`);
});

document.getElementById('logout').addEventListener('click', () => {
  clearToken();
  if (cleanup) { cleanup(); cleanup = null; }
  loginView('');
});

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  if (!token()) { loginView(''); return; }
  nav.hidden = false;
  const [, section = 'marketplace', name] = (location.hash || '#/marketplace').slice(1).split('/')
    .map((p) => decodeURIComponent(p));
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const views = {
    marketplace: () => (name ? pluginView(main, name) : marketplaceView(main)),
    installed: () => (name ? installedDetailView(main, name) : installedView(main)),
    repositories: () => repositoriesView(main),
  };
  const view = views[section] || views.marketplace;
  try {
    cleanup = (await view()) || null;
  } catch (e) {
    if (e.status !== 401) clear(main, h('p', { class: 'error-box', role: 'alert' }, e.message));
  }
  // Move focus to the new page for keyboard and screen-reader users.
  const heading = main.querySelector('h1');
  if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
}

window.addEventListener('hashchange', route);
route();
