// Live plugin states from GET /api/plugins/marketplace/stream (server-sent
// events), read with fetch() so that the bearer token travels in the
// Authorization header like every other call. A view subscribes with
// watchStates(); while the stream is up it gets each change as it happens,
// and when the stream fails (an old daemon, a proxy that buffers, the
// daemon's client limit) onDown tells the view to poll, and the stream is
// tried again with a growing delay.

import { M, openStream } from './api.js';

// The daemon sends a comment every 15 s by default: a stream silent for
// longer than this is taken for dead (a proxy holding it, a network gone).
const SILENCE_MS = 45000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;

// Splits the text/event-stream in buf into events; returns what is left.
function parse(buf, dispatch) {
  let at;
  // Blocks end with a blank line; a lone \r\n form is accepted too.
  buf = buf.replace(/\r\n?/g, '\n');
  while ((at = buf.indexOf('\n\n')) >= 0) {
    const block = buf.slice(0, at);
    buf = buf.slice(at + 2);
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue; // a heartbeat
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) {
      let parsed = null;
      try { parsed = JSON.parse(data.join('\n')); } catch { parsed = null; }
      if (parsed) dispatch(type, parsed);
    }
  }
  return buf;
}

// One connection: resolves when the server ends it, rejects when it fails.
async function readOnce(signal, on) {
  const r = await openStream(`${M}/stream`, signal);
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf = parse(buf + value, (type, data) => {
      if (type === 'state' && on.state) on.state(data);
      else if (type === 'removed' && on.removed) on.removed(data);
      else if (type === 'ready' && on.ready) on.ready(data);
    });
    on.alive();
  }
}

// Handlers: state(s), removed({name}), ready() (the snapshot is complete:
// from now on changes arrive live), down() (not live: poll). Returns stop().
export function watchStates(handlers) {
  let stopped = false;
  let ctl = null;
  let silence = 0;
  let wait = 0;
  let failures = 0;

  function alive() {
    clearTimeout(silence);
    silence = setTimeout(() => { if (ctl) ctl.abort(); }, SILENCE_MS);
  }

  async function run() {
    while (!stopped) {
      ctl = new AbortController();
      let up = false;
      try {
        alive();
        await readOnce(ctl.signal, {
          ...handlers,
          ready: (d) => { up = true; failures = 0; if (handlers.ready) handlers.ready(d); },
          alive,
        });
      } catch (e) {
        // 401: api.js has shown the login already; nothing to retry with.
        if (stopped || e.status === 401) break;
      }
      clearTimeout(silence);
      if (stopped) break;
      if (handlers.down) handlers.down();
      if (!up) failures += 1;
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 5));
      await new Promise((resolve) => { wait = setTimeout(resolve, delay); });
    }
  }
  run();
  return () => {
    stopped = true;
    clearTimeout(silence);
    clearTimeout(wait);
    if (ctl) ctl.abort();
  };
}

// A plugin's runtime with a live state event applied (the event has no
// output lines: those of the same exit are kept until the status is read).
export function withLive(runtime, ev) {
  const rt = { ...(runtime || {}), ...ev };
  if (!('restart_in_ms' in ev)) delete rt.restart_in_ms;
  const old = runtime && runtime.last_exit;
  if (ev.last_exit && old && old.description === ev.last_exit.description) {
    rt.last_exit = { ...old, ...ev.last_exit };
  }
  return rt;
}
