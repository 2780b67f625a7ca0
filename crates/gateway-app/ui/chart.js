// A stacked bar chart in SVG, drawn with the DOM API: one bar per day, one colour per series.
// Small on purpose: axes, a legend, and a <title> on every bar for its exact value. The data
// table next to each chart carries the same numbers for screen readers and export.

import { svg, h } from './dom.js';

const W = 720;
const H = 240;
const PAD = { left: 64, right: 8, top: 12, bottom: 28 };
const SERIES_CLASSES = 8;

/**
 * `days`: the x values in order; `series`: [{name, values: Map(day -> number)}].
 * Returns a figure with the SVG and its legend.
 */
export function stackedBars(label, days, series, format) {
  const totals = days.map((d) => series.reduce((s, x) => s + (x.values.get(d) || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, days.length);
  const barW = Math.max(2, Math.min(48, step * 0.7));
  const y = (v) => PAD.top + plotH - (max ? (v / max) * plotH : 0);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'chart', preserveAspectRatio: 'xMidYMid meet' });
  for (let i = 0; i <= 4; i += 1) {
    const v = (max / 4) * i;
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, axisLabel(v)));
  }
  const labelEvery = Math.ceil(days.length / 10);
  days.forEach((day, i) => {
    const x = PAD.left + step * i + (step - barW) / 2;
    let base = 0;
    series.forEach((s, n) => {
      const v = s.values.get(day) || 0;
      if (!v) return;
      root.append(svg('rect', { x, y: y(base + v), width: barW, height: Math.max(0.5, y(base) - y(base + v)), class: `bar s${n % SERIES_CLASSES}` },
        svg('title', null, `${day} · ${s.name}: ${format(v)}`)));
      base += v;
    });
    if (i % labelEvery === 0) {
      root.append(svg('text', { x: x + barW / 2, y: H - 8, class: 'axis', 'text-anchor': 'middle' }, day.slice(5)));
    }
  });
  const legend = h('ul', { class: 'legend' }, series.map((s, n) => h('li', null, h('span', { class: `swatch s${n % SERIES_CLASSES}`, 'aria-hidden': 'true' }), s.name)));
  return h('figure', { class: 'chart-figure' }, h('figcaption', null, label), root, legend);
}

/** A short axis label: 0, 2.5, 1.2k, 3.4M, 0.00012. */
function axisLabel(v) {
  if (v === 0) return '0';
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(2));
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
