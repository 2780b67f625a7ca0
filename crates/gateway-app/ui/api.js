// Credentials and calls. The gateway key (playground) and the admin credential (admin views)
// live in sessionStorage only (gone when the tab closes; never in localStorage, cookies or
// URLs) and travel as `Authorization: Bearer` headers. The server decides what each may do.

const KEY = 'gateway.key';
const ADMIN = 'gateway.admin';

export const session = {
  key: () => sessionStorage.getItem(KEY) || '',
  admin: () => sessionStorage.getItem(ADMIN) || '',
  set(key, admin) {
    if (key) sessionStorage.setItem(KEY, key); else sessionStorage.removeItem(KEY);
    if (admin) sessionStorage.setItem(ADMIN, admin); else sessionStorage.removeItem(ADMIN);
  },
  clear() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ADMIN);
  },
};

/** An error answer of the gateway: status plus its OpenAI-shaped body. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `The gateway answered ${status}.`);
    this.status = status;
    this.code = e.code || null;
    this.type = e.type || null;
  }
}

async function call(path, credential, options = {}) {
  const headers = { accept: 'application/json', ...(options.headers || {}) };
  if (credential) headers.authorization = `Bearer ${credential}`;
  let body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const resp = await fetch(path, {
    method: options.method || (body ? 'POST' : 'GET'),
    headers,
    body,
    // `no-store` keeps admin and model lists out of the browser's cache, but Chromium then
    // sends `cache-control: no-cache`, which the gateway reads as "refresh the response cache"
    // (docs/caching.md): calls with a body (model calls) use the default mode, which adds no
    // header (and a browser never stores the answer to a POST).
    cache: body === undefined ? 'no-store' : 'default',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
    signal: options.signal,
  });
  return resp;
}

async function json(resp) {
  const text = await resp.text();
  let value = null;
  try { value = text ? JSON.parse(text) : null; } catch { value = null; }
  if (!resp.ok) throw new ApiError(resp.status, value);
  return value;
}

/** A call with the gateway key (model calls, `/v1/models`, guardrail checks). */
export async function gateway(path, options) {
  return json(await call(path, session.key(), options));
}

/** The raw response of a model call with the gateway key (streams read it themselves). */
export function gatewayRaw(path, options) {
  return call(path, session.key(), options);
}

/**
 * A call to the admin API with the admin credential. A 401 means the credential no longer
 * works (revoked, expired, token changed): the console then asks to sign in again.
 */
export async function admin(path, options) {
  const resp = await call(`/admin/v1/${path}`, session.admin(), options);
  if (resp.status === 401) window.dispatchEvent(new CustomEvent('gateway:signed-out'));
  return json(resp);
}

/** Query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Reads an OpenAI event stream, calling `onEvent(json)` for each `data:` event; resolves at
 * `[DONE]` or the end of the body. An `error` event becomes an ApiError.
 */
export async function readEvents(resp, onEvent) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
      const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (!data) continue;
      if (data === '[DONE]') return;
      let event;
      try { event = JSON.parse(data); } catch { continue; }
      if (event && event.error) throw new ApiError(502, event);
      onEvent(event);
    }
  }
}
