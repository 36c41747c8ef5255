// The admin UI in Debian's Chromium (headless, driven by playwright-core)
// against a real daemon and PostgreSQL started by run_ui.py, which passes:
// SS_UI_URL, SS_UI_TOKEN (admin), SS_UI_DAEMON_LOG, SS_UI_SHOTS, SS_CHROMIUM.
// One browser, one page, the steps in order, as an operator would go.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const URL = process.env.SS_UI_URL;
const TOKEN = process.env.SS_UI_TOKEN;
const LOG = process.env.SS_UI_DAEMON_LOG;
const SHOTS = process.env.SS_UI_SHOTS;
const M = `${URL}/api/plugins/marketplace`;
const WAIT = 20000;

let browser;
let page;
const problems = []; // console errors and page errors nobody expected
// The browser reports every non-2xx fetch as a console error; these are the
// answers the steps below provoke on purpose (a refused token, a refused
// config, endpoints this server lacks), nothing else is allowed.
const EXPECTED = /Failed to load resource: the server responded with a status of (400|401|404|409|422)/;
// A step that provokes another answer on purpose says so here, for its duration.
let alsoExpected = null;

// axe-core (npm, pinned) checks each page for WCAG 2 A/AA problems; it is
// evaluated through the DevTools protocol, which the page's CSP does not govern.
const AXE = readFileSync(join(process.cwd(), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const a11y = []; // serious or critical violations, by page

// fullPage: false keeps a scrolled dialog where it is (a full-page shot relays it out).
async function shot(name, fullPage = true) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
  if (name.startsWith('failed-')) return;
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  for (const v of found) a11y.push(`${name}: ${v}`);
}

async function apiGet(path) {
  const r = await fetch(`${M}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return { status: r.status, body: await r.json() };
}

// What the database holds (the API masks secrets; this is the truth behind it).
function sql(query) {
  const [psql, ...args] = JSON.parse(process.env.SS_UI_PSQL);
  return execFileSync(psql, [...args, '-c', query], { encoding: 'utf8' }).trim();
}

function daemonLog() {
  return readFileSync(LOG, 'utf8');
}

async function waitFor(pred, what, timeout = WAIT) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await pred();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// The steps build on each other: after a failure the rest are skipped, so
// the first failure is the one reported (the run fails either way).
let broken = false;
function step(name, fn) {
  test(name, async (t) => {
    if (broken) {
      t.skip('an earlier step failed');
      return;
    }
    try {
      await fn();
    } catch (e) {
      broken = true;
      await shot(`failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`).catch(() => {});
      throw e;
    }
  });
}

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.SS_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('console', (m) => {
    if (m.type() === 'error' && !EXPECTED.test(m.text()) && !(alsoExpected && alsoExpected.test(m.text()))) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});

after(async () => {
  if (browser) await browser.close();
});

step('the login refuses a bad token, then logs in; the token is never in the URL', async () => {
  await page.goto(`${URL}/`);
  assert.match(page.url(), /\/admin\/$/);
  await page.getByLabel('API token').fill('sst_not-a-real-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('That token was refused.').waitFor();
  await shot('01-login');
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Marketplace' }).waitFor();
  assert.ok(!page.url().includes(TOKEN), 'token in the URL');
  const stored = await page.evaluate(() => sessionStorage.getItem('streamspace.token'));
  assert.equal(stored, TOKEN);
  const local = await page.evaluate(() => JSON.stringify(localStorage));
  assert.ok(!local.includes(TOKEN), 'token in localStorage');
});

step('the catalog: cards, search, filters and sort', async () => {
  await page.locator('article.card').first().waitFor();
  const all = await page.locator('article.card').count();
  assert.ok(all >= 3, `only ${all} cards`);
  const hello = page.locator('article.card', { hasText: 'Hello' });
  await assert.doesNotReject(hello.getByText('v1.0.0').waitFor());
  await hello.getByText('installs').waitFor();
  await page.getByLabel('Search').fill('logs every session');
  await waitFor(async () => (await page.locator('article.card').count()) === 1, 'one search result');
  assert.equal(await page.locator('article.card .title').innerText(), 'Hello');
  await page.getByLabel('Search').fill('');
  await waitFor(async () => (await page.locator('article.card').count()) === all, 'all cards back');
  await page.getByLabel('Category').selectOption('Monitoring');
  await waitFor(async () => (await page.locator('article.card').count()) === 1, 'the Monitoring category');
  assert.equal(await page.locator('article.card .title').innerText(), 'Counter');
  await page.getByLabel('Category').selectOption('');
  await page.getByLabel('Sort by').selectOption('name');
  await waitFor(async () => (await page.locator('article.card').count()) === all, 'sorted by name');
  const names = await page.locator('article.card .title').allInnerTexts();
  await shot('02-marketplace');
  assert.ok(names.length === all, names.join());
});

step('a plugin\'s detail page: permissions, versions, rate it', async () => {
  await page.getByRole('link', { name: 'Details of Hello' }).click();
  await page.getByRole('heading', { name: 'Hello', level: 1 }).waitFor();
  await page.getByRole('list', { name: 'Permissions requested' }).getByText('read:sessions').waitFor();
  await page.getByRole('heading', { name: 'Versions' }).waitFor();
  await page.getByRole('region', { name: 'README' }).getByText('This plugin has no README here.').waitFor();
  await page.getByLabel('Rating', { exact: true }).selectOption('4');
  await page.getByLabel('Review (optional)').fill('tidy logs');
  await page.getByRole('button', { name: 'Save rating' }).click();
  await page.getByText('tidy logs').waitFor();
  const r = await apiGet('/ratings/hello');
  assert.equal(r.body.count, 1);
  assert.equal(r.body.ratings[0].rating, 4);
  // Reviews list who rated and what they said; versions list what the catalog has.
  await page.locator('ul.reviews li', { hasText: 'ui-admin' }).filter({ hasText: 'tidy logs' }).waitFor();
  await page.getByRole('list', { name: 'Versions' }).getByText('1.0.0').waitFor();
  await shot('03-detail');
});

step('a plugin that asks for the network: the permission is highlighted', async () => {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Marketplace' }).click();
  await page.getByRole('link', { name: 'Details of Slack Notifications' }).click();
  await page.getByRole('heading', { name: 'Slack Notifications', level: 1 }).waitFor();
  const perms = page.getByRole('list', { name: 'Permissions requested' });
  const net = perms.locator('li', { hasText: 'network' });
  assert.equal(await net.locator('.pill').getAttribute('class'), 'pill danger');
  await net.getByText('may make HTTP requests to other hosts').waitFor();
  // Its README, as the plugin directory has it.
  const readme = page.getByRole('region', { name: 'README' }).locator('pre.readme');
  await readme.filter({ hasText: 'incoming webhook' }).waitFor();
  assert.ok((await readme.innerText()).startsWith('# streamspace-slack'), await readme.innerText());
  assert.equal(await perms.locator('li', { hasText: 'read:sessions' }).locator('.pill').getAttribute('class'), 'pill');
  await shot('03b-detail-network');
  await page.getByRole('link', { name: '← Marketplace' }).click();
  await page.getByRole('link', { name: 'Details of Hello' }).click();
  await page.getByRole('heading', { name: 'Hello', level: 1 }).waitFor();
});

step('install with the generated form: a refused config, a field error, then Activate', async () => {
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  const dlg = page.getByRole('dialog');
  await dlg.getByRole('heading', { name: /Install Hello/ }).waitFor();
  // The form has every kind of field the schema asks for.
  await dlg.getByLabel('Greeting').waitFor();
  assert.equal(await dlg.getByLabel('Greeting').inputValue(), 'hello');
  assert.equal(await dlg.getByLabel('Port').inputValue(), '8080');
  assert.equal(await dlg.getByLabel('Level').evaluate((e) => e.tagName), 'SELECT');
  assert.equal(await dlg.getByLabel('API key').getAttribute('type'), 'password');
  assert.equal(await dlg.getByLabel('API key').inputValue(), '');
  assert.equal(await dlg.getByLabel('Retries').inputValue(), '3');
  await shot('04-install-form');

  // The JSON tab sends what it holds: the server refuses a config that is not an object.
  await dlg.getByRole('tab', { name: 'JSON' }).click();
  await dlg.getByLabel('Configuration (JSON)').fill('[1]');
  await dlg.getByRole('button', { name: 'Activate' }).click();
  await dlg.getByRole('alert').filter({ hasText: 'config must be a JSON object' }).waitFor();
  assert.equal((await apiGet('/installed/hello')).status, 404);

  // Back to the form with a valid object; a port out of range is shown at its field.
  await dlg.getByLabel('Configuration (JSON)').fill('{"greeting": "ui-hi", "port": 70000}');
  await dlg.getByRole('tab', { name: 'Form' }).click();
  assert.equal(await dlg.getByLabel('Greeting').inputValue(), 'ui-hi');
  await dlg.getByRole('button', { name: 'Activate' }).click();
  const portField = dlg.locator('[data-schemapath="root.port"]');
  await portField.locator('.field-error').waitFor();
  assert.match(await portField.locator('.field-error').innerText(), /65535/);
  assert.equal(await dlg.getByLabel('Port').getAttribute('aria-invalid'), 'true');
  await shot('05-install-field-error');
  assert.equal((await apiGet('/installed/hello')).status, 404, 'installed despite the error');

  // A rule only the daemon checks (json-editor does not check "format": "uri"):
  // its 422 invalid_config error is shown at the URL field and listed in the JSON tab.
  await dlg.getByLabel('Port').fill('9000');
  await dlg.getByLabel('URL', { exact: true }).fill('not a uri');
  const refused = page.waitForResponse((r) => r.url().includes('/install/hello') && r.status() === 422);
  await dlg.getByRole('button', { name: 'Activate' }).click();
  const answer = await (await refused).json();
  assert.equal(answer.error.code, 'invalid_config');
  assert.deepEqual(answer.error.errors.map((e) => [e.path, e.keyword]), [['/delivery/url', 'format']]);
  const urlField = dlg.locator('[data-schemapath="root.delivery.url"]');
  await waitFor(async () => /valid uri/.test(await urlField.locator('.field-error').innerText().catch(() => '')),
    'the server\'s error at the URL field');
  assert.equal(await dlg.getByLabel('URL', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.equal(await dlg.locator('.config-form > .form-errors').innerText(), '', 'shown above the form, not at its field');
  await urlField.scrollIntoViewIfNeeded();
  await shot('05b-install-server-field-error', false);
  await dlg.getByRole('tab', { name: 'JSON' }).click();
  await dlg.locator('.json-errors li[data-path="/delivery/url"]').filter({ hasText: 'valid uri' }).waitFor();
  await dlg.getByRole('tab', { name: 'Form' }).click();
  assert.equal((await apiGet('/installed/hello')).status, 404, 'installed despite the server\'s error');

  await dlg.getByLabel('URL', { exact: true }).fill('https://example.invalid/hook');
  await dlg.getByLabel('API key').fill('s3cret-key');
  await dlg.getByLabel('Level').selectOption('debug');
  await dlg.getByRole('button', { name: 'Activate' }).click();
  await page.getByRole('heading', { name: 'Hello', level: 1 }).waitFor();
  await page.locator('.badge[data-state="running"]').waitFor();
  const st = await apiGet('/installed/hello');
  assert.equal(st.status, 200);
  assert.equal(st.body.config.greeting, 'ui-hi');
  assert.equal(st.body.config.port, 9000);
  assert.equal(st.body.config.level, 'debug');
  assert.equal(st.body.config.apiKey, '********');
  assert.equal(sql("SELECT config->>'apiKey' FROM installed_plugins WHERE name = 'hello'"), 's3cret-key');
  assert.deepEqual(st.body.config.delivery, { url: 'https://example.invalid/hook', retries: 3 });
  assert.deepEqual(st.body.config.channels, ['#general']);
  await waitFor(() => /hello: ui-hi from hello/.test(daemonLog()), 'the plugin to greet with ui-hi');
  // The page follows the daemon's state stream; its log lines and sandbox layers show.
  await page.locator('[data-live="stream"]').waitFor();
  const logs = page.getByRole('region', { name: 'Recent log lines' });
  await logs.locator('pre.log').filter({ hasText: 'ui-hi from hello 1.0.0' }).waitFor();
  const layers = await page.getByRole('list', { name: 'Sandbox layers' }).locator('li').allInnerTexts();
  assert.deepEqual(layers, st.body.runtime.sandbox.layers);
  assert.ok(layers.includes('seccomp') || layers.length > 3, layers.join());
  await shot('06-installed-detail');
});

step('installed: tabs, toggle off and on', async () => {
  await page.getByRole('link', { name: 'Installed', exact: true }).click();
  await page.getByRole('heading', { name: 'Installed plugins' }).waitFor();
  const card = page.locator('article.card[data-plugin="hello"]');
  await card.locator('.badge[data-state="running"]').waitFor();
  await card.getByRole('switch').uncheck();
  await card.locator('.badge[data-state="disabled"]').waitFor();
  await waitFor(async () => (await apiGet('/installed/hello')).body.runtime === null, 'the host to stop');
  await page.getByRole('tab', { name: 'Enabled' }).click();
  await page.getByText('No enabled plugins.').waitFor();
  await page.getByRole('tab', { name: 'Disabled' }).click();
  await card.waitFor();
  await shot('07-installed-disabled');
  // click, not check(): once the enable is answered the card leaves the
  // Disabled tab, and check() would wait for it there to read the switch.
  await card.getByRole('switch').click();
  await page.getByRole('tab', { name: 'All' }).click();
  await page.locator('article.card[data-plugin="hello"] .badge[data-state="running"]').waitFor();
  if (!(await card.getByRole('switch').isChecked())) throw new Error('the switch is not on once hello runs');
  await shot('08-installed');
});

step('configure: a stored secret is never shown and is kept; the plugin gets the new config', async () => {
  const card = page.locator('article.card[data-plugin="hello"]');
  await card.getByRole('button', { name: 'Configure' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Greeting').waitFor();
  await dlg.locator('input[type="password"][placeholder*="stored"]').waitFor();
  assert.equal(await dlg.getByLabel('API key').inputValue(), '', 'secret pre-filled');
  const before = daemonLog().length;
  await dlg.getByLabel('Greeting').fill('ui-changed');
  await shot('09-configure');
  await dlg.getByRole('button', { name: 'Save' }).click();
  await dlg.waitFor({ state: 'detached' });
  // hello logs each configuration it receives: the new greeting, and the stored
  // key (the daemon blanks a secret out of log lines, so it shows masked).
  const line = await waitFor(() => daemonLog().slice(before).split('\n')
    .find((l) => l.includes('new configuration') && l.includes('ui-changed')), 'hello to get the new config');
  assert.ok(!line.includes('s3cret-key'), `secret in the log: ${line}`);
  const st = await apiGet('/installed/hello');
  assert.equal(st.body.config.greeting, 'ui-changed');
  assert.equal(st.body.config.apiKey, '********');
  assert.equal(sql("SELECT config->>'apiKey' FROM installed_plugins WHERE name = 'hello'"), 's3cret-key');
  // The masked value sent back kept the stored one (not "********" itself):
  // the JSON tab shows what the API has, masked, and a save from it keeps it too.
  await card.getByRole('button', { name: 'Configure' }).click();
  await dlg.getByRole('tab', { name: 'JSON' }).click();
  const text = await dlg.getByLabel('Configuration (JSON)').inputValue();
  assert.match(text, /"apiKey": "\*\*\*\*\*\*\*\*"/);
  assert.ok(!text.includes('s3cret-key'));
  await dlg.getByRole('button', { name: 'Cancel' }).click();
});

step('kill the host: the badge goes crashed, then running again, from the stream', async () => {
  await page.getByRole('link', { name: 'Hello' }).first().click();
  await page.getByRole('heading', { name: 'Hello', level: 1 }).waitFor();
  await page.locator('.badge[data-state="running"]').waitFor();
  await page.locator('[data-live="stream"]').waitFor();
  // The configuration saved above is in the plugin's log lines, its secret masked.
  const logs = page.getByRole('region', { name: 'Recent log lines' }).locator('pre.log');
  await logs.filter({ hasText: 'new configuration' }).filter({ hasText: 'ui-changed' }).waitFor();
  assert.ok((await logs.innerText()).includes('"apiKey":"********"'), await logs.innerText());
  assert.ok(!(await logs.innerText()).includes('s3cret-key'), 'a secret in the log lines');
  // Record every state the badge shows, however briefly.
  await page.evaluate(() => {
    window.__states = [];
    const seen = () => {
      const b = document.querySelector('.badge');
      if (b && window.__states[window.__states.length - 1] !== b.dataset.state) window.__states.push(b.dataset.state);
    };
    new MutationObserver(seen).observe(document.getElementById('main'), { subtree: true, childList: true });
    seen();
  });
  // One kill: the stream reports the crash as it happens (no poll to miss it between).
  const rt0 = (await apiGet('/installed/hello')).body.runtime;
  assert.ok(rt0 && rt0.pid > 0, 'no pid');
  process.kill(rt0.pid, 'SIGKILL');
  await waitFor(async () => {
    const r = (await apiGet('/installed/hello')).body.runtime;
    return r && r.state === 'running' && r.pid !== rt0.pid;
  }, 'the host to be restarted');
  await page.locator('.badge[data-state="running"]').waitFor();
  await page.getByText(/SIGKILL/).first().waitFor();
  const states = await page.evaluate(() => window.__states);
  const c = states.indexOf('crashed');
  assert.ok(c > 0 && states.slice(c).includes('running'), `states seen: ${states.join(' ')}`);
  const rt = (await apiGet('/installed/hello')).body.runtime;
  assert.equal(rt.restarts, 1);
  await page.locator('dl.kv dd', { hasText: `pid ${rt.pid}` }).waitFor();
  // The log lines follow too: the new host's greeting with the saved configuration.
  await logs.filter({ hasText: 'ui-changed from hello 1.0.0' }).waitFor();
  console.log(`# the page showed: ${states.join(' -> ')}`);
  await page.locator('#toast').evaluate((t) => { t.textContent = ''; });
  await shot('10-after-crash'); // docs/admin-ui.png
});

step('without the stream the page polls: the badge still follows a crash', async () => {
  alsoExpected = /status of 503/;
  await page.route('**/api/plugins/marketplace/stream', (route) => route.fulfill({
    status: 503, contentType: 'application/json', headers: { 'Retry-After': '5' },
    body: JSON.stringify({ error: { code: 'too_many_streams', message: 'test: no stream' } }),
  }));
  try {
    await page.getByRole('link', { name: '← Installed' }).click();
    await page.getByRole('heading', { name: 'Installed plugins' }).waitFor();
    await page.getByRole('link', { name: 'Hello' }).first().click();
    await page.getByRole('heading', { name: 'Hello', level: 1 }).waitFor();
    await page.locator('[data-live="polling"]').waitFor();
    const rt0 = (await apiGet('/installed/hello')).body.runtime;
    process.kill(rt0.pid, 'SIGKILL');
    await waitFor(async () => {
      const r = (await apiGet('/installed/hello')).body.runtime;
      return r && r.state === 'running' && r.pid !== rt0.pid;
    }, 'the host to be restarted');
    const pid = (await apiGet('/installed/hello')).body.runtime.pid;
    await page.locator('dl.kv dd', { hasText: `pid ${pid}` }).waitFor();
    assert.equal(await page.locator('[data-live]').getAttribute('data-live'), 'polling');
  } finally {
    await page.unroute('**/api/plugins/marketplace/stream');
  }
  // Back to a page of its own: the stream again.
  await page.getByRole('link', { name: '← Installed' }).click();
  await page.locator('[data-live="stream"]').waitFor();
  alsoExpected = null;
});

step('versions show what the server has, nothing made up', async () => {
  await page.getByRole('link', { name: 'Hello' }).first().click();
  await page.getByRole('heading', { name: 'Hello', level: 1 }).waitFor();
  const one = (await apiGet('/catalog?q=hello')).body.plugins.find((p) => p.name === 'hello');
  assert.deepEqual(one.versions, ['1.0.0']);
  await page.getByText('Running 1.0.0').waitFor();
  await page.getByText('This is the newest version in the catalog.').waitFor();
  await page.getByText('No other version to roll back to.').waitFor();
  assert.equal(await page.getByRole('button', { name: /Upgrade to|Roll back/ }).count(), 0);
});

async function apiSend(method, path, body) {
  const r = await fetch(`${M}${path}`, {
    method, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

step('upgrade to a newer version from a repository, then roll back', async () => {
  // A repository with hello 1.1.0 (run_ui.py packaged it), added and synced by the API.
  const repo = await apiSend('POST', '/repositories', { name: 'ui-versions', url: process.env.SS_UI_VERSIONS_URL });
  assert.equal(repo.status, 201, JSON.stringify(repo.body));
  await waitFor(async () => {
    const r = await apiSend('POST', `/sync?id=${repo.body.id}`);
    return r.status === 200 && ['synced', 'unchanged'].includes(r.body.repositories[0].status);
  }, 'the versions repository to sync');
  await waitFor(async () => (await apiGet('/catalog?q=hello')).body.plugins
    .find((p) => p.name === 'hello').versions.includes('1.1.0'), 'hello 1.1.0 in the catalog');
  await page.getByRole('link', { name: '← Installed' }).click();
  await page.getByRole('heading', { name: 'Installed plugins' }).waitFor();
  // The card says a newer version exists; its link leads to the plugin's page.
  await page.locator('article.card[data-plugin="hello"]').getByRole('link', { name: 'Version 1.1.0 is available' }).click();
  await page.getByRole('heading', { name: 'Hello', level: 1 }).waitFor();
  const pid0 = (await apiGet('/installed/hello')).body.runtime.pid;
  await page.getByRole('button', { name: 'Upgrade to 1.1.0' }).click();
  await page.getByText('Running 1.1.0; before it, 1.0.0').waitFor();
  await page.locator('.badge[data-state="running"]').waitFor();
  let st = (await apiGet('/installed/hello')).body;
  assert.equal(st.version, '1.1.0');
  assert.equal(st.previousVersion, '1.0.0');
  assert.equal(st.config.greeting, 'ui-changed', 'the configuration was not carried over');
  assert.notEqual(st.runtime.pid, pid0, 'the same host runs');
  // The log lines of the version before are still there (they are the plugin's).
  await page.getByRole('region', { name: 'Recent log lines' }).locator('pre.log')
    .filter({ hasText: 'new configuration' }).waitFor();
  assert.equal(await page.getByRole('button', { name: /Upgrade to/ }).count(), 0, 'an upgrade offered past the newest');
  await shot('10b-upgraded');
  await page.getByRole('button', { name: 'Roll back to 1.0.0' }).click();
  await page.getByText('Running 1.0.0; before it, 1.1.0').waitFor();
  st = (await apiGet('/installed/hello')).body;
  assert.equal(st.version, '1.0.0');
  assert.equal(st.previousVersion, '1.1.0');
  assert.equal(st.config.greeting, 'ui-changed');
  await page.getByRole('button', { name: 'Upgrade to 1.1.0' }).waitFor();
  await page.locator('.badge[data-state="running"]').waitFor();
  const gone = await apiSend('DELETE', `/repositories/${repo.body.id}`);
  assert.equal(gone.status, 200);
});

step('repositories: add one, sync it, its plugins in the marketplace, remove it', async () => {
  await page.getByRole('link', { name: 'Repositories' }).click();
  await page.getByRole('heading', { name: 'Repositories' }).waitFor();
  const table = page.getByRole('table');
  await table.locator('tr[data-repo="local"]').waitFor();
  await page.getByLabel('Name', { exact: true }).fill('ui-repo');
  await page.getByLabel('Catalog URL').fill(process.env.SS_UI_REPO_URL);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  const row = table.locator('tr[data-repo="ui-repo"]');
  await row.getByText('never').first().waitFor();
  const added = (await apiGet('/repositories')).body.repositories.find((r) => r.name === 'ui-repo');
  assert.equal(added.url, process.env.SS_UI_REPO_URL);
  assert.equal(added.status, 'never');
  // The same name again: the server's 409 is shown by the form.
  await page.getByLabel('Name', { exact: true }).fill('ui-repo');
  await page.getByLabel('Catalog URL').fill(process.env.SS_UI_REPO_URL);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'a repository of that name exists' }).waitFor();

  await row.getByRole('button', { name: 'Sync ui-repo' }).click();
  await page.locator('.sync-list li[data-repo="ui-repo"]').filter({ hasText: 'added ui-extra@1.2.0' }).waitFor();
  await row.locator('td', { hasText: /^ok$/ }).waitFor();
  const synced = (await apiGet('/repositories')).body.repositories.find((r) => r.name === 'ui-repo');
  assert.equal(synced.status, 'ok');
  assert.equal(synced.pluginCount, 1);
  assert.ok(synced.lastSyncedAt, 'no lastSyncedAt');
  await shot('11-repositories');

  await page.getByRole('link', { name: 'Marketplace' }).click();
  await page.getByLabel('Search').fill('only the test');
  await page.locator('article.card', { hasText: 'UI Extra' }).getByText('v1.2.0').waitFor();
  await page.getByLabel('Search').fill('');

  await page.getByRole('link', { name: 'Repositories' }).click();
  await row.getByRole('button', { name: 'Remove ui-repo' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.getByText('Its plugins leave the catalog').waitFor();
  await shot('12-repository-remove-confirm');
  await dlg.getByRole('button', { name: 'Remove' }).click();
  await row.waitFor({ state: 'detached' });
  const left = (await apiGet('/repositories')).body.repositories.map((r) => r.name);
  assert.ok(!left.includes('ui-repo'), left.join());
  const cat = (await apiGet('/catalog?q=ui-extra')).body.plugins.map((p) => p.name);
  assert.ok(!cat.includes('ui-extra'), `still in the catalog: ${cat.join()}`);
});

// What hello keeps in plugin_storage, written as the plugin's storage would be.
const storageRows = () => sql("SELECT count(*) FROM plugin_storage WHERE plugin_name = 'hello'");

step('uninstall with confirmation: the stored data kept, then purged', async () => {
  sql(`INSERT INTO plugin_storage (plugin_name, key, value) VALUES ('hello', 'ui-note', '"kept"')`);
  await page.getByRole('link', { name: 'Installed', exact: true }).click();
  const card = page.locator('article.card[data-plugin="hello"]');
  await card.getByRole('button', { name: 'Uninstall' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.getByText('The data it stored are kept').waitFor();
  const purge = dlg.getByLabel('Also delete the data it stored (purge)');
  assert.equal(await purge.isChecked(), false, 'purge checked by default');
  await shot('13-uninstall-confirm');
  await dlg.getByRole('button', { name: 'Uninstall' }).click();
  await card.waitFor({ state: 'detached' });
  await waitFor(async () => (await apiGet('/installed/hello')).status !== 200, 'hello to be gone');
  assert.equal(storageRows(), '1', 'storage gone without purge');

  // Again, installed (by the API) and uninstalled with purge checked: the storage goes.
  const r = await fetch(`${M}/install/hello`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(r.status, 201);
  const nav = page.getByRole('navigation', { name: 'Sections' });
  await nav.getByRole('link', { name: 'Marketplace' }).click();
  await page.locator('article.card').first().waitFor();
  await nav.getByRole('link', { name: 'Installed' }).click();
  await card.getByRole('button', { name: 'Uninstall' }).click();
  await purge.check();
  await dlg.getByRole('button', { name: 'Uninstall' }).click();
  await card.waitFor({ state: 'detached' });
  await waitFor(async () => (await apiGet('/installed/hello')).status !== 200, 'hello to be gone again');
  assert.equal(storageRows(), '0', 'storage kept despite purge');
});

step('a phone\'s width: no sideways scrolling, the nav and cards fit', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('link', { name: 'Marketplace' }).click();
  await page.locator('article.card').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `scrolls sideways by ${overflow}px`);
  await shot('14-phone-marketplace');
  await page.getByRole('button', { name: 'Install Hello' }).click();
  const overflow2 = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow2 <= 0, `the dialog scrolls sideways by ${overflow2}px`);
  await shot('15-phone-install');
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  await page.setViewportSize({ width: 1280, height: 800 });
});

step('keyboard: the login and the catalog work without a mouse', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('API token').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), await page.getByLabel('API token').getAttribute('id'));
  await page.keyboard.type(TOKEN);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Marketplace' }).waitFor();
  // Tab reaches the search box from the top of the page.
  let found = false;
  for (let i = 0; i < 12 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement && document.activeElement.type === 'search');
  }
  assert.ok(found, 'Tab never reached the search box');
});

step('a refused token (revoked, expired) returns to the login', async () => {
  await page.evaluate(() => sessionStorage.setItem('streamspace.token', 'sst_revoked'));
  await page.getByRole('link', { name: 'Installed', exact: true }).click();
  await page.getByLabel('API token').waitFor();
  await page.getByText(/Logged out/).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('streamspace.token')), null);
});

test('no console errors, no page errors', () => {
  assert.deepEqual(problems, []);
});

test('no serious accessibility problems on any page (axe-core, WCAG 2.1 A/AA)', () => {
  assert.deepEqual(a11y, []);
});
