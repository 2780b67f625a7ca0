// The audit log: filters (tenant, actor, action, time range, order), pages of records, the
// details of each, and the result of re-computing the hash chain (admins only).

import { h, append, replace, field, input, select, table, notice, fmt } from './dom.js';
import { admin, query } from './api.js';

const ACTIONS = ['', 'tenant.create', 'tenant.update', 'tenant.delete', 'key.create', 'key.update', 'key.rotate', 'key.revoke', 'cache.invalidate'];

export async function audit(root, { me }) {
  const f = {
    tenant: input({ id: 'audit-tenant', placeholder: 'any' }),
    actor: input({ id: 'audit-actor', placeholder: 'any' }),
    action: select(ACTIONS.map((a) => [a, a || 'any']), { id: 'audit-action' }),
    from: input({ type: 'date', id: 'audit-from' }),
    to: input({ type: 'date', id: 'audit-to' }),
    order: select([['newest', 'Newest first'], ['oldest', 'Oldest first']], { id: 'audit-order' }),
  };
  const verify = h('div', { id: 'audit-verify', 'aria-live': 'polite' });
  const list = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Older records');
  const form = h('form', { class: 'row toolbar', id: 'audit-form' },
    field('Tenant', f.tenant), field('Actor', f.actor), field('Action', f.action),
    field('From', f.from), field('To', f.to), field('Order', f.order), h('button', { type: 'submit' }, 'Filter'));
  let records = [];
  let after = null;

  async function load(reset) {
    if (reset) { records = []; after = null; }
    const params = { tenant: f.tenant.value.trim(), actor: f.actor.value.trim(), action: f.action.value, from: f.from.value, to: f.to.value, order: f.order.value, limit: 100 };
    if (after !== null) params.after = after;
    try {
      const page = await admin(`audit${query(params)}`);
      records = records.concat(page.data);
      after = page.next_after ?? null;
    } catch (e) { replace(list, notice('error', e.message)); return; }
    more.hidden = after === null;
    replace(list, records.length ? table([
      { label: '#', get: (r) => r.seq, class: 'num' },
      { label: 'At', get: (r) => fmt.time(r.at) },
      { label: 'Tenant', get: (r) => r.tenant || '—' },
      { label: 'Actor', get: (r) => r.actor },
      { label: 'Action', get: (r) => r.action },
      { label: 'Target', get: (r) => r.target || '—' },
      { label: 'Outcome', get: (r) => h('span', { class: `pill ${r.outcome}` }, r.outcome) },
      { label: 'Details', get: (r) => h('details', null, h('summary', null, 'show'), h('pre', null, JSON.stringify(r.details, null, 2))) },
    ], records, 'Audit records') : notice('info', 'No audit records match.'));
  }

  async function verifyChain() {
    if (!me.roles.includes('admin')) return;
    try {
      const v = await admin('audit/verify');
      replace(verify, v.intact
        ? notice('ok', `Hash chain intact: ${fmt.int(v.checked)} records checked.`)
        : notice('error', `Hash chain broken at record ${v.first_broken_seq} (${fmt.int(v.checked)} checked).`));
    } catch (e) { replace(verify, notice('error', `Verification failed: ${e.message}`)); }
  }

  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(true); });
  more.addEventListener('click', () => load(false));
  append(root, h('h1', null, 'Audit log'), verify, form, list, more);
  // Paging with `after` walks oldest first; newest-first shows the latest page.
  f.order.addEventListener('change', () => { more.hidden = true; });
  await Promise.all([verifyChain(), load(true)]);
}
