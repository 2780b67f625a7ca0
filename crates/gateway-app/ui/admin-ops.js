// Operations: deployments (health, circuit, latency, in-flight; refreshed every two seconds
// while shown), the guardrail tester, and the running configuration with secrets redacted.

import { h, append, replace, field, input, select, table, notice, fmt } from './dom.js';
import { admin } from './api.js';

const REFRESH_MS = 2000;

export async function deployments(root) {
  const out = h('div');
  const stamp = h('p', { class: 'muted', 'aria-live': 'off' });
  append(root, h('h1', null, 'Deployments'), stamp, out);
  async function refresh() {
    try {
      const rows = (await admin('deployments')).data;
      replace(out, table([
        { label: 'Model', get: (d) => d.model },
        { label: 'Provider', get: (d) => d.provider },
        { label: 'Upstream model', get: (d) => d.upstream_model },
        { label: 'Region', get: (d) => d.region || '—' },
        { label: 'Health', get: (d) => h('span', { class: `pill ${d.circuit === 'closed' ? 'active' : 'revoked'}` }, d.circuit === 'closed' ? 'healthy' : 'unhealthy') },
        { label: 'Circuit', get: (d) => (d.retry_in_ms ? `${d.circuit} (retry in ${fmt.ms(d.retry_in_ms)})` : d.circuit) },
        { label: 'Latency (EWMA)', get: (d) => fmt.ms(d.ewma_latency_ms), class: 'num' },
        { label: 'In flight', get: (d) => `${d.in_flight}${d.concurrency_limit ? ` / ${d.concurrency_limit}` : ''}`, class: 'num' },
        { label: 'Requests', get: (d) => fmt.int(d.requests), class: 'num' },
        { label: 'Failures', get: (d) => fmt.int(d.failures), class: 'num' },
      ], rows, 'Deployments'));
      stamp.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s.`;
    } catch (e) { replace(out, notice('error', e.message)); }
  }
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);
}

export async function guardrails(root, { me }) {
  const text = h('textarea', { id: 'guard-text', rows: '5', required: true });
  const direction = select([['input', 'Prompt (input)'], ['output', 'Answer (output)']], { id: 'guard-direction' });
  const tenant = input({ id: 'guard-tenant', value: me.tenant || '', placeholder: 'tenant id' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', id: 'guard-form' }, field('Text', text),
    h('div', { class: 'row' }, field('As', direction), field('Tenant (its guardrails)', tenant)),
    h('button', { type: 'submit' }, 'Check'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const v = await admin('guardrails/check', { json: { tenant: tenant.value.trim() || undefined, text: text.value, direction: direction.value } });
      replace(out,
        notice(v.action === 'block' ? 'error' : v.flagged ? 'info' : 'ok', `Verdict: ${v.action}${v.flagged ? '' : ' (nothing found)'}`),
        v.findings.length ? table([
          { label: 'Guardrail', get: (x) => x.guardrail },
          { label: 'Category', get: (x) => x.category },
          { label: 'Rule', get: (x) => x.rule },
          { label: 'Action', get: (x) => x.action },
          { label: 'Where', get: (x) => `${x.start}–${x.end}` },
          { label: 'Score', get: (x) => (x.score === null || x.score === undefined ? '—' : Number(x.score).toFixed(2)) },
        ], v.findings, 'Findings') : null,
        v.redacted_text ? h('div', null, h('h2', null, 'Redacted text'), h('pre', null, v.redacted_text)) : null);
    } catch (e) { replace(out, notice('error', e.message)); }
  });
  append(root, h('h1', null, 'Guardrail tester'), form, out);
}

export async function config(root) {
  try {
    const c = await admin('config');
    append(root, h('h1', null, 'Configuration'),
      h('p', { class: 'muted' }, `Loaded ${c.loaded_at}. Secrets are redacted by the server.`),
      h('pre', { class: 'config', tabindex: '0' }, c.text));
  } catch (e) { append(root, h('h1', null, 'Configuration'), notice('error', e.message)); }
}
