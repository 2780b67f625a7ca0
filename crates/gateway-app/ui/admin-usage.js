// Usage: requests, tokens and cost per day by tenant, key or model, as charts and a table,
// with CSV export; and each tenant's spend against its daily and monthly budgets.

import { h, append, replace, field, input, select, table, notice, fmt, dayRange } from './dom.js';
import { admin, query } from './api.js';
import { stackedBars } from './chart.js';

const METRICS = [
  ['requests', 'Requests', fmt.int],
  ['total_tokens', 'Tokens', fmt.int],
  ['cost_usd', 'Cost (USD)', (v) => fmt.usd(v)],
];
const SERIES_LIMIT = 8; // more series than colours are folded into "other"

export async function usage(root, { me }) {
  const [from0, to0] = dayRange(14);
  const from = input({ type: 'date', id: 'usage-from', value: from0 });
  const to = input({ type: 'date', id: 'usage-to', value: to0 });
  const by = select([['model', 'Model'], ['tenant', 'Tenant'], ['key', 'Key']], { id: 'usage-by' });
  const tenant = input({ id: 'usage-tenant', placeholder: 'all' });
  const out = h('div', { 'aria-live': 'polite' });
  const budgets = h('section', { 'aria-labelledby': 'budgets-h' });
  const form = h('form', { class: 'row toolbar', id: 'usage-form' }, field('From', from), field('To', to), field('By', by), field('Tenant', tenant),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  append(root, h('h1', null, 'Usage'), form, out, budgets);

  async function load() {
    let rows;
    try {
      rows = (await admin(`usage${query({ from: from.value, to: to.value, tenant: tenant.value.trim(), group_by: `day,${by.value}` })}`)).data;
    } catch (e) { replace(out, notice('error', e.message)); return; }
    const dim = by.value;
    const days = daysBetween(from.value, to.value);
    const names = [...new Set(rows.map((r) => r[dim] ?? '—'))];
    const totals = new Map(names.map((n) => [n, rows.filter((r) => (r[dim] ?? '—') === n).reduce((s, r) => s + r.requests, 0)]));
    names.sort((a, b) => totals.get(b) - totals.get(a));
    const shown = names.slice(0, SERIES_LIMIT - 1);
    const fold = (n) => (shown.includes(n) || names.length <= SERIES_LIMIT ? n : 'other');
    const charts = METRICS.map(([key, label, format]) => {
      const series = new Map();
      for (const r of rows) {
        const name = fold(r[dim] ?? '—');
        if (!series.has(name)) series.set(name, new Map());
        const m = series.get(name);
        m.set(r.day, (m.get(r.day) || 0) + (r[key] || 0));
      }
      return stackedBars(`${label} per day by ${dim}`, days, [...series].map(([name, values]) => ({ name, values })), format);
    });
    const columns = [
      { label: 'Day', get: (r) => r.day },
      { label: dim[0].toUpperCase() + dim.slice(1), get: (r) => r[dim] ?? '—' },
      { label: 'Requests', get: (r) => fmt.int(r.requests), class: 'num' },
      { label: 'Errors', get: (r) => fmt.int(r.errors), class: 'num' },
      { label: 'Cache hits', get: (r) => fmt.int(r.cache_hits), class: 'num' },
      { label: 'Prompt tokens', get: (r) => fmt.int(r.prompt_tokens), class: 'num' },
      { label: 'Completion tokens', get: (r) => fmt.int(r.completion_tokens), class: 'num' },
      { label: 'Cost', get: (r) => fmt.usd(r.cost_usd), class: 'num' },
    ];
    const csv = h('button', { type: 'button', class: 'secondary', id: 'usage-csv', onclick: () => download(`usage-${from.value}-${to.value}-by-${dim}.csv`, toCsv(rows, dim)) }, 'Export CSV');
    replace(out,
      rows.length ? h('div', { class: 'charts' }, charts) : notice('info', 'No calls in this range.'),
      h('div', { class: 'row' }, h('h2', null, 'Per day'), h('span', { class: 'spacer' }), csv),
      table(columns, rows, `Usage per day by ${dim}`));
    await drawBudgets();
  }

  async function drawBudgets() {
    if (!me.permissions.includes('read_tenants')) return;
    try {
      const tenants = (await admin('tenants')).data.filter((t) => t.limits && (t.limits.budget_usd_daily || t.limits.budget_usd_monthly));
      const [today] = dayRange(1);
      const month = `${today.slice(0, 8)}01`;
      const spend = async (f) => new Map((await admin(`usage${query({ from: f, to: today, group_by: 'tenant' })}`)).data.map((r) => [r.tenant, r.cost_usd || 0]));
      const [daily, monthly] = await Promise.all([spend(today), spend(month)]);
      const meter = (used, budget) => (budget ? h('span', { class: 'budget' },
        h('meter', { min: '0', max: String(budget), value: String(Math.min(used, budget)), high: String(budget * 0.8), optimum: '0' }),
        ` ${fmt.usd(used)} of ${fmt.usd(budget)}`) : '—');
      replace(budgets, h('h2', { id: 'budgets-h' }, 'Spend against budgets'),
        tenants.length ? table([
          { label: 'Tenant', get: (t) => t.id },
          { label: 'Today', get: (t) => meter(daily.get(t.id) || 0, t.limits.budget_usd_daily) },
          { label: 'This month', get: (t) => meter(monthly.get(t.id) || 0, t.limits.budget_usd_monthly) },
        ], tenants, 'Budgets') : notice('info', 'No tenant has a budget.'));
    } catch (e) { replace(budgets, notice('error', e.message)); }
  }

  await load();
}

function daysBetween(from, to) {
  const out = [];
  const end = new Date(`${to}T00:00:00Z`);
  for (let d = new Date(`${from}T00:00:00Z`); d <= end && out.length < 366; d = new Date(d.getTime() + 86400000)) {
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

function toCsv(rows, dim) {
  const cols = ['day', dim, 'requests', 'errors', 'cache_hits', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd', 'unpriced_requests', 'guardrail_findings'];
  const cell = (v) => {
    const s = v === null || v === undefined ? '' : String(v);
    // Quote when needed; a leading formula character is defused for spreadsheets.
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\r\n');
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
