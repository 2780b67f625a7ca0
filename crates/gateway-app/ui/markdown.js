// A small Markdown renderer for model answers that builds DOM nodes directly (text only goes
// through text nodes, so nothing in an answer can become markup). It covers what models
// write: headings, paragraphs, fenced and inline code, bold, italic, links (http, https and
// mailto only), ordered and unordered lists, block quotes and horizontal rules.

import { h } from './dom.js';

/** Renders `text` into a fragment. */
export function renderMarkdown(text) {
  const out = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*(```|~~~)\s*([\w+#.-]*)/);
    if (fence) {
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i += 1; // closing fence (or the end of a still-streaming answer)
      const code = h('code', fence[2] ? { class: `language-${fence[2]}` } : null, body.join('\n'));
      out.append(h('pre', { tabindex: '0' }, fence[2] ? h('span', { class: 'lang' }, fence[2]) : null, code));
      continue;
    }
    if (!line.trim()) { i += 1; continue; }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) {
      out.append(inline(h(`h${Math.min(6, heading[1].length + 2)}`), heading[2]));
      i += 1;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { out.append(h('hr')); i += 1; continue; }
    if (/^\s*>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ''));
      const q = h('blockquote');
      q.append(renderMarkdown(quoted.join('\n')));
      out.append(q);
      continue;
    }
    const item = listItem(line);
    if (item) {
      const list = h(item.ordered ? 'ol' : 'ul');
      while (i < lines.length) {
        const it = listItem(lines[i]);
        if (!it || it.ordered !== item.ordered) break;
        const parts = [it.text];
        i += 1;
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !listItem(lines[i])) parts.push(lines[i++].trim());
        list.append(inline(h('li'), parts.join(' ')));
      }
      out.append(list);
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !startsBlock(lines[i])) para.push(lines[i++]);
    if (!para.length) para.push(lines[i++]);
    const p = h('p');
    para.forEach((l, n) => { if (n) p.append(h('br')); inline(p, l); });
    out.append(p);
  }
  return out;
}

function listItem(line) {
  const m = line.match(/^\s{0,3}(?:([-*+])|(\d{1,9})[.)])\s+(.*)$/);
  return m ? { ordered: !m[1], text: m[3] } : null;
}

function startsBlock(line) {
  return /^\s*(```|~~~)/.test(line) || /^#{1,6}\s/.test(line) || /^\s*>/.test(line) || !!listItem(line);
}

// Inline spans, in order of precedence: code, links, bold, italic.
const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\[([^\]\n]+)\]\(([^)\s]+)\)|\*\*([^*\n]+)\*\*|__([^_\n]+)__|\*([^*\n]+)\*|\b_([^_\n]+)_\b/g;

/** Appends the inline Markdown of `text` to `el` and returns `el`. */
export function inline(el, text) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) el.append(text.slice(last, m.index));
    if (m[1]) el.append(h('code', null, m[2].trim() ? m[2] : m[2]));
    else if (m[3]) el.append(link(m[3], m[4]));
    else if (m[5] || m[6]) el.append(inline(h('strong'), m[5] || m[6]));
    else el.append(inline(h('em'), m[7] || m[8]));
    last = m.index + m[0].length;
  }
  if (last < text.length) el.append(text.slice(last));
  return el;
}

function link(label, href) {
  let url = null;
  try { url = new URL(href); } catch { /* a relative or broken address stays text */ }
  if (!url || !['http:', 'https:', 'mailto:'].includes(url.protocol)) return `[${label}](${href})`;
  return inline(h('a', { href: url.href, rel: 'noopener noreferrer nofollow', target: '_blank' }), label);
}
