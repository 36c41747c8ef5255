// Every call the UI makes goes through here, to the public REST API with the
// bearer token. The token lives in sessionStorage (this tab only, gone when it
// closes), never in a URL. A 401 ends the session and shows the login.

const KEY = 'streamspace.token';
export const M = '/api/plugins/marketplace';

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const e = body && body.error ? body.error : {};
    super(e.message || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    // invalid_config lists every error: [{path: "/a/b" (JSON Pointer), keyword, message}].
    const list = e.errors || [];
    this.fieldErrors = Array.isArray(list) ? list : [];
  }
}

let onLogout = () => {};
export function setLogoutHandler(fn) { onLogout = fn; }
export function token() { return sessionStorage.getItem(KEY); }
export function setToken(t) { sessionStorage.setItem(KEY, t); }
export function clearToken() { sessionStorage.removeItem(KEY); }

// tok: a token to try (the login form's) instead of the session's; its 401 is the caller's.
export async function call(method, path, body, tok) {
  const session = tok === undefined;
  if (session) tok = token();
  const headers = { Accept: 'application/json' };
  if (tok) headers.Authorization = `Bearer ${tok}`;
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, null, `the daemon did not answer (${e.message})`);
  }
  let data = null;
  const text = await r.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (r.status === 401 && session) refused(data);
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// The session's token was refused: it is forgotten and the login shown.
function refused(data) {
  clearToken();
  onLogout((data && data.error && data.error.message) || 'your token was refused');
}

// A streamed answer (GET stream): the Response once its head is in, with the
// session's token in the Authorization header — EventSource cannot send one,
// and a token never goes in a URL. Errors as call() throws them.
export async function openStream(path, signal) {
  const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token()}` };
  let r;
  try {
    r = await fetch(path, { headers, cache: 'no-store', credentials: 'omit', signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null, `the daemon did not answer (${e.message})`);
  }
  if (r.ok && r.body) return r;
  let data = null;
  try { data = JSON.parse(await r.text()); } catch { data = null; }
  if (r.status === 401) refused(data);
  throw new ApiError(r.status, data);
}

export const api = {
  catalog: (params) => call('GET', `${M}/catalog?${new URLSearchParams(params)}`),
  installed: () => call('GET', `${M}/installed`),
  installedOne: (name) => call('GET', `${M}/installed/${encodeURIComponent(name)}`),
  install: (name, body) => call('POST', `${M}/install/${encodeURIComponent(name)}`, body),
  enable: (name) => call('POST', `${M}/enable/${encodeURIComponent(name)}`),
  disable: (name) => call('POST', `${M}/disable/${encodeURIComponent(name)}`),
  configure: (name, config) => call('PUT', `${M}/config/${encodeURIComponent(name)}`, { config }),
  rollback: (name) => call('POST', `${M}/rollback/${encodeURIComponent(name)}`),
  logs: (name, limit) => call('GET', `${M}/logs/${encodeURIComponent(name)}${limit ? `?limit=${limit}` : ''}`),
  uninstall: (name, purge) => call('DELETE', `${M}/uninstall/${encodeURIComponent(name)}${purge ? '?purge=true' : ''}`),
  readme: (name) => call('GET', `${M}/readme/${encodeURIComponent(name)}`),
  ratings: (name) => call('GET', `${M}/ratings/${encodeURIComponent(name)}`),
  rate: (name, rating, review) => call('POST', `${M}/rate/${encodeURIComponent(name)}`, { rating, review }),
  repositories: () => call('GET', `${M}/repositories`),
  addRepository: (body) => call('POST', `${M}/repositories`, body),
  removeRepository: (id) => call('DELETE', `${M}/repositories/${encodeURIComponent(id)}`),
  sync: (id) => call('POST', id === undefined ? `${M}/sync` : `${M}/sync?id=${encodeURIComponent(id)}`),
};

// Whether an error means "this server has no such endpoint" (not "no such plugin").
export function missingEndpoint(e) {
  return e instanceof ApiError && (e.status === 404 || e.status === 405) &&
    /no such endpoint|not allowed/.test(e.message);
}
