// Tenants and keys: list and search both, create a tenant, edit a tenant's models and limits,
// issue a key (its secret is shown once, with a copy button, and is kept nowhere), rotate,
// revoke, and edit a key's limits and allowed models. The admin API checks every action.

import { h, append, replace, field, input, select, table, notice, copyButton, fmt } from './dom.js';
import { admin, query } from './api.js';

const ROLES = ['developer', 'viewer', 'auditor', 'tenant_admin', 'admin'];

export async function keys(root, { me }) {
  const can = (p) => me.permissions.includes(p);
  const secretBox = h('div', { 'aria-live': 'assertive' });
  const msg = h('div', { 'aria-live': 'polite' });
  const tenantsEl = h('section', { 'aria-labelledby': 'tenants-h' });
  const keysEl = h('section', { 'aria-labelledby': 'keys-h' });
  const search = input({ type: 'search', id: 'search', placeholder: 'Filter by id, name or prefix' });
  const tenantFilter = select([['', 'All tenants']], { id: 'key-tenant-filter' });
  let tenants = [];
  let keyRows = [];

  const fail = (e) => replace(msg, notice('error', e.message));
  const matches = (...values) => {
    const q = search.value.trim().toLowerCase();
    return !q || values.some((v) => String(v || '').toLowerCase().includes(q));
  };

  async function load() {
    try {
      tenants = can('read_tenants') ? (await admin('tenants')).data : [];
      keyRows = (await admin(`keys${query({ tenant: tenantFilter.value })}`)).data;
    } catch (e) { fail(e); }
    const chosen = tenantFilter.value;
    replace(tenantFilter, h('option', { value: '' }, 'All tenants'), tenants.map((t) => h('option', { value: t.id }, t.id)));
    tenantFilter.value = chosen;
    draw();
  }

  function draw() {
    replace(tenantsEl, h('h2', { id: 'tenants-h' }, 'Tenants'),
      table([
        { label: 'Id', get: (t) => t.id },
        { label: 'Name', get: (t) => t.name || '' },
        { label: 'Enabled', get: (t) => (t.enabled ? 'yes' : 'no') },
        { label: 'Models', get: (t) => (t.allowed_models ? t.allowed_models.join(', ') : 'all') },
        { label: 'Limits', get: (t) => limitsText(t.limits) },
        { label: 'Actions', get: (t) => (can('manage_tenants') ? h('button', { type: 'button', class: 'secondary', onclick: () => editTenant(t) }, 'Edit') : '') },
      ], tenants.filter((t) => matches(t.id, t.name)), 'Tenants'),
      can('manage_tenants') ? tenantForm() : null);
    replace(keysEl, h('h2', { id: 'keys-h' }, 'Keys'),
      table([
        { label: 'Name', get: (k) => k.name },
        { label: 'Tenant', get: (k) => k.tenant },
        { label: 'Prefix', get: (k) => h('code', null, k.prefix) },
        { label: 'Status', get: (k) => h('span', { class: `pill ${k.status}` }, k.status) },
        { label: 'Roles', get: (k) => k.roles.join(', ') },
        { label: 'Models', get: (k) => (k.allowed_models ? k.allowed_models.join(', ') : 'tenant’s') },
        { label: 'Limits', get: (k) => limitsText(k.limits) },
        { label: 'Last used', get: (k) => fmt.time(k.last_used_at) },
        { label: 'Actions', get: (k) => keyActions(k) },
      ], keyRows.filter((k) => matches(k.id, k.name, k.prefix, k.tenant)), 'Keys'),
      can('manage_keys') ? keyForm() : null);
  }

  function keyActions(k) {
    if (!can('manage_keys') || k.status === 'revoked') return '';
    return h('span', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => editKey(k) }, 'Edit'),
      h('button', { type: 'button', class: 'secondary', onclick: () => act(`keys/${encodeURIComponent(k.id)}/rotate`, `Rotate the key “${k.name}”? The old secret stops working.`) }, 'Rotate'),
      h('button', { type: 'button', class: 'danger', onclick: () => act(`keys/${encodeURIComponent(k.id)}/revoke`, `Revoke the key “${k.name}” for good?`) }, 'Revoke'));
  }

  async function act(path, question) {
    if (!window.confirm(question)) return;
    try {
      const out = await admin(path, { method: 'POST', json: {} });
      if (out && out.secret) showSecret(out);
      else replace(msg, notice('ok', 'Done.'));
      await load();
    } catch (e) { fail(e); }
  }

  function showSecret(key) {
    // Shown once: it lives in this element only and is gone on reload or navigation.
    const code = h('code', { id: 'new-secret' }, key.secret);
    replace(secretBox, h('div', { class: 'card secret', role: 'alert' },
      h('strong', null, `Secret of “${key.name}” — copy it now, it is not shown again:`),
      h('div', { class: 'row' }, code, copyButton('Copy secret', () => key.secret),
        h('button', { type: 'button', class: 'secondary', onclick: () => replace(secretBox) }, 'Done'))));
  }

  function tenantForm() {
    const id = input({ id: 'tenant-id', required: true, pattern: '[A-Za-z0-9._-]{1,64}' });
    const name = input({ id: 'tenant-name' });
    const form = h('form', { class: 'card inline-form', id: 'tenant-form' }, h('h3', null, 'New tenant'),
      field('Id', id), field('Name', name), h('button', { type: 'submit' }, 'Create tenant'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await admin('tenants', { json: { id: id.value.trim(), name: name.value.trim() || undefined } });
        replace(msg, notice('ok', `Tenant ${id.value.trim()} created.`));
        await load();
      } catch (e) { fail(e); }
    });
    return form;
  }

  function keyForm() {
    const tenant = select(tenants.map((t) => t.id).length ? tenants.map((t) => t.id) : [me.tenant || ''], { id: 'key-tenant' });
    const name = input({ id: 'key-name', required: true });
    const role = select(ROLES.filter((r) => r !== 'admin' || me.roles.includes('admin')), { id: 'key-role' });
    const models = input({ id: 'key-models', placeholder: 'all the tenant allows' });
    const rpm = input({ type: 'number', id: 'key-rpm', min: '1' });
    const tpm = input({ type: 'number', id: 'key-tpm', min: '1' });
    const days = input({ type: 'number', id: 'key-days', min: '1', placeholder: 'never' });
    const form = h('form', { class: 'card inline-form', id: 'key-form' }, h('h3', null, 'New key'),
      field('Tenant', tenant), field('Name', name), field('Role', role),
      field('Allowed models', models, 'comma-separated'), field('Requests / min', rpm), field('Tokens / min', tpm),
      field('Expires in days', days), h('button', { type: 'submit' }, 'Create key'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { tenant: tenant.value, name: name.value.trim(), roles: [role.value] };
      const list = splitList(models.value);
      if (list) body.allowed_models = list;
      const limits = numbers({ rpm: rpm.value, tpm: tpm.value });
      if (limits) body.limits = limits;
      if (days.value) body.expires_in_days = Number(days.value);
      try {
        const created = await admin('keys', { json: body });
        showSecret(created);
        name.value = '';
        await load();
      } catch (e) { fail(e); }
    });
    return form;
  }

  function editor(title, values, save) {
    const fields = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, input({ id: `edit-${k}`, value: v ?? '', type: k === 'models' || k === 'name' ? 'text' : 'number' })]));
    const dialog = h('form', { class: 'card inline-form', id: 'edit-form' }, h('h3', null, title),
      Object.entries(fields).map(([k, el]) => field(LABELS[k], el)),
      h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Save'),
        h('button', { type: 'button', class: 'secondary', onclick: () => replace(msg) }, 'Cancel')));
    dialog.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const v = Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value]));
      // "Saved." once the tables show the change, not before.
      try { await save(v); await load(); replace(msg, notice('ok', 'Saved.')); } catch (e) { fail(e); }
    });
    replace(msg, dialog);
    dialog.querySelector('input').focus();
  }

  function editTenant(t) {
    const l = t.limits || {};
    editor(`Edit tenant ${t.id}`, { name: t.name, models: (t.allowed_models || []).join(', '), rpm: l.rpm, tpm: l.tpm, max_concurrency: l.max_concurrency, budget_usd_daily: l.budget_usd_daily, budget_usd_monthly: l.budget_usd_monthly },
      (v) => admin(`tenants/${encodeURIComponent(t.id)}`, { method: 'PATCH', json: {
        name: v.name || null, allowed_models: splitList(v.models),
        limits: numbers({ rpm: v.rpm, tpm: v.tpm, max_concurrency: v.max_concurrency, budget_usd_daily: v.budget_usd_daily, budget_usd_monthly: v.budget_usd_monthly }) || {},
      } }));
  }

  function editKey(k) {
    const l = k.limits || {};
    // Every limit a key can hold is in the form: PATCH replaces the limits as a whole.
    editor(`Edit key ${k.name}`, { name: k.name, models: (k.allowed_models || []).join(', '), rpm: l.rpm, tpm: l.tpm, max_concurrency: l.max_concurrency, budget_usd_daily: l.budget_usd_daily, budget_usd_monthly: l.budget_usd_monthly },
      (v) => admin(`keys/${encodeURIComponent(k.id)}`, { method: 'PATCH', json: {
        name: v.name, allowed_models: splitList(v.models),
        limits: numbers({ rpm: v.rpm, tpm: v.tpm, max_concurrency: v.max_concurrency, budget_usd_daily: v.budget_usd_daily, budget_usd_monthly: v.budget_usd_monthly }) || {},
      } }));
  }

  search.addEventListener('input', draw);
  tenantFilter.addEventListener('change', load);
  append(root, h('h1', null, 'Tenants & keys'),
    h('div', { class: 'row toolbar' }, field('Search', search), field('Keys of', tenantFilter)),
    secretBox, msg, tenantsEl, keysEl);
  await load();
}

const LABELS = { name: 'Name', models: 'Allowed models (comma-separated, empty: all)', rpm: 'Requests / min', tpm: 'Tokens / min', max_concurrency: 'Concurrent requests', budget_usd_daily: 'Daily budget (USD)', budget_usd_monthly: 'Monthly budget (USD)' };

function splitList(text) {
  const list = String(text || '').split(',').map((s) => s.trim()).filter(Boolean);
  return list.length ? list : null;
}

function numbers(values) {
  const out = {};
  for (const [k, v] of Object.entries(values)) if (v !== '' && v !== undefined && v !== null) out[k] = Number(v);
  return Object.keys(out).length ? out : null;
}

function limitsText(l) {
  if (!l) return '—';
  const parts = [];
  if (l.rpm) parts.push(`${l.rpm} rpm`);
  if (l.tpm) parts.push(`${l.tpm} tpm`);
  if (l.max_concurrency) parts.push(`${l.max_concurrency} concurrent`);
  if (l.budget_usd_daily) parts.push(`$${l.budget_usd_daily}/day`);
  if (l.budget_usd_monthly) parts.push(`$${l.budget_usd_monthly}/month`);
  return parts.join(', ') || '—';
}
