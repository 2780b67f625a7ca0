// The console's shell: sign-in, navigation (hash routes, so that the server serves one page),
// the theme switch and sign-out. Views are modules loaded when first shown; the admin views
// are offered only to an admin credential, and only the permissions the server reports for
// it (`GET /admin/v1/me`); the server enforces every one of them on each call anyway.

import { h, append, replace, field, notice } from './dom.js';
import { session, gateway, admin } from './api.js';

const adminEnabled = document.querySelector('meta[name="gateway-ui-admin"]')?.content === 'on';

/** Views: route, label, what they need, and how to load them. */
const VIEWS = [
  { route: 'playground', label: 'Playground', needs: 'key', load: () => import('./playground.js').then((m) => m.playground) },
  { route: 'admin/keys', label: 'Tenants & keys', needs: 'read_keys', load: () => import('./admin-keys.js').then((m) => m.keys) },
  { route: 'admin/usage', label: 'Usage', needs: 'read_usage', load: () => import('./admin-usage.js').then((m) => m.usage) },
  { route: 'admin/audit', label: 'Audit', needs: 'read_audit', load: () => import('./admin-audit.js').then((m) => m.audit) },
  { route: 'admin/deployments', label: 'Deployments', needs: 'read_usage', load: () => import('./admin-ops.js').then((m) => m.deployments) },
  { route: 'admin/guardrails', label: 'Guardrail tester', needs: 'read_tenants', load: () => import('./admin-ops.js').then((m) => m.guardrails) },
  { route: 'admin/config', label: 'Configuration', needs: 'manage_config', load: () => import('./admin-ops.js').then((m) => m.config) },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let me = null; // what the admin credential may do, from the server
let cleanup = null;

function allowed(view) {
  if (view.needs === 'key') return !!session.key();
  return adminEnabled && !!me && me.permissions.includes(view.needs);
}

function renderNav(current) {
  const links = VIEWS.filter(allowed).map((v) => h('li', null,
    h('a', { href: `#/${v.route}`, 'aria-current': v.route === current ? 'page' : null }, v.label)));
  replace(nav, h('ul', null, links),
    h('div', { class: 'who' }, me ? h('span', { class: 'muted' }, me.subject) : null,
      h('button', { type: 'button', class: 'secondary', id: 'signout', onclick: signOut }, 'Sign out')));
}

function signOut() {
  session.clear();
  me = null;
  window.location.hash = '#/signin';
}

function signIn(message) {
  const key = h('input', { type: 'password', id: 'signin-key', autocomplete: 'off', spellcheck: 'false' });
  const adm = h('input', { type: 'password', id: 'signin-admin', autocomplete: 'off', spellcheck: 'false' });
  const msg = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card signin', id: 'signin-form' },
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted' }, 'Credentials stay in this tab (sessionStorage) and are sent only as headers to this gateway.'),
    field('Gateway API key (playground)', key),
    adminEnabled ? field('Admin credential (admin views)', adm, 'The [admin] token, or a key with an admin role.') : null,
    h('button', { type: 'submit' }, 'Sign in'), msg);
  if (message) append(msg, notice('error', message));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const k = key.value.trim();
    const a = adm.value.trim();
    if (!k && !a) { replace(msg, notice('error', 'Enter a gateway key, an admin credential, or both.')); return; }
    session.set(k, a);
    try {
      if (k) await gateway('/v1/models');
      if (a) me = await admin('me');
    } catch (e) {
      session.clear();
      me = null;
      replace(msg, notice('error', `Sign-in failed: ${e.message}`));
      return;
    }
    window.location.hash = k ? '#/playground' : '#/admin/keys';
  });
  replace(nav);
  replace(main, form);
  key.focus();
}

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  const path = window.location.hash.replace(/^#\/?/, '');
  if (!session.key() && !session.admin()) { signIn(); return; }
  if (session.admin() && !me && adminEnabled) {
    try { me = await admin('me'); } catch { me = null; }
  }
  const usable = VIEWS.filter(allowed);
  const view = usable.find((v) => v.route === path) || usable[0];
  if (!view) {
    replace(main, notice('error', 'These credentials open no view here.'));
    renderNav('');
    return;
  }
  if (view.route !== path) { window.location.hash = `#/${view.route}`; return; }
  renderNav(view.route);
  const root = h('div', { class: 'view' });
  replace(main, root);
  try {
    const show = await view.load();
    cleanup = (await show(root, { me })) || null;
  } catch (e) {
    append(root, notice('error', e.message));
  }
  document.title = `${view.label} · LLM Gateway`;
  main.focus({ preventScroll: true });
  markInteractive();
}

let marked = false;
function markInteractive() {
  if (marked) return;
  marked = true;
  performance.mark('console-interactive');
  document.documentElement.dataset.ready = 'true';
}

// Theme: follows the system unless chosen; the choice (not a credential) is kept locally.
const THEMES = ['system', 'light', 'dark'];
function applyTheme(theme) {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const button = document.getElementById('theme');
  button.textContent = `Theme: ${theme}`;
}
document.getElementById('theme').addEventListener('click', () => {
  const next = THEMES[(THEMES.indexOf(localStorage.getItem('gateway.theme') || 'system') + 1) % THEMES.length];
  localStorage.setItem('gateway.theme', next);
  applyTheme(next);
});
applyTheme(localStorage.getItem('gateway.theme') || 'system');

window.addEventListener('hashchange', route);
// The admin credential was refused (401): forget both credentials and ask again.
window.addEventListener('gateway:signed-out', () => {
  if (!session.admin()) return;
  session.clear();
  me = null;
  if (cleanup) { cleanup(); cleanup = null; }
  signIn('The admin credential was refused (revoked, expired or changed); sign in again.');
});
route().then(() => markInteractive());
