// Small DOM helpers. Every piece of text reaches the page through `textContent` or an
// attribute value, never through `innerHTML`, so untrusted text (model answers, tenant and
// key names, audit details) is always shown as text.

/** An element: `h('button', {class: 'x', onclick: f}, 'Label', child)`. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, ...children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, with attributes only (charts). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** Appends children: nodes, text (strings, numbers) or nested arrays; skips null/false. */
export function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}

/** A labelled form control: `<label>Text <input></label>`. */
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', null, label), control,
    hint ? h('small', { class: 'hint' }, hint) : null);
}

export function input(attrs) {
  return h('input', { type: 'text', ...attrs });
}

export function select(options, attrs) {
  const el = h('select', attrs);
  for (const o of options) {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    el.append(h('option', { value }, label));
  }
  if (attrs && attrs.value !== undefined) el.value = attrs.value;
  return el;
}

/** A table from column definitions `{label, get(row) -> node|text, class?}`. */
export function table(columns, rows, caption) {
  const head = h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)));
  const body = rows.map((r) => h('tr', null, columns.map((c) => h('td', { class: c.class }, c.get(r)))));
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || 'table' },
    h('table', null, caption ? h('caption', null, caption) : null, h('thead', null, head), h('tbody', null, body)));
}

/** A status line for errors and notices (announced to screen readers). */
export function notice(kind, text) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Copies text to the clipboard; falls back to selecting a hidden textarea. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { class: 'offscreen', 'aria-hidden': 'true' });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/** A copy button that says "Copied" for a moment. */
export function copyButton(label, getText) {
  const b = h('button', { type: 'button', class: 'secondary' }, label);
  b.addEventListener('click', async () => {
    const ok = await copyText(getText());
    b.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => { b.textContent = label; }, 1500);
  });
  return b;
}

export const fmt = {
  int: (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US')),
  usd: (n) => (n === null || n === undefined ? '—' : `$${Number(n).toFixed(n && Math.abs(n) < 0.01 ? 6 : 4)}`),
  ms: (n) => (n === null || n === undefined ? '—' : `${Math.round(n)} ms`),
  time: (s) => (s ? s.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—'),
};

/** Today and `days` ago as `YYYY-MM-DD` (UTC, as the admin API counts days). */
export function dayRange(days) {
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86400000);
  return [from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)];
}
