// Small DOM helpers: elements are built, never parsed from strings, so data
// from the API can never become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let toastTimer = 0;
export function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.textContent = ''; }, 5000);
}

let uid = 0;
export function id(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A modal dialog (<dialog>, so focus is trapped and Escape closes it); resolves
// when it closes. build(body, close) fills the body and returns the footer's buttons.
export function modal(title, build) {
  return new Promise((resolve) => {
    const titleId = id('dlg');
    const body = h('div', { class: 'dlg-body' });
    const foot = h('div', { class: 'dlg-foot' });
    const dlg = h('dialog', { 'aria-labelledby': titleId },
      h('div', { class: 'dlg-head' }, h('h2', { id: titleId }, title),
        h('button', { type: 'button', class: 'link', 'aria-label': 'Close', onclick: () => close(null) }, '✕')),
      body, foot);
    const opener = document.activeElement;
    let result = null;
    function close(value) {
      result = value;
      dlg.close();
    }
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    document.body.append(dlg);
    append(foot, [build(body, close)]);
    dlg.showModal();
  });
}

export function stars(avg) {
  if (avg === null || avg === undefined) return 'no ratings';
  const n = Math.round(Number(avg));
  return '★'.repeat(n) + '☆'.repeat(5 - n);
}

export function when(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? String(ts) : d.toLocaleString();
}
