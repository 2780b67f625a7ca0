/**
 * Standard Webhooks signatures, for the receiving side: {@link verifyWebhook} checks that a
 * delivery was signed by the gateway with the endpoint's secret and is fresh, then returns
 * its payload; {@link signWebhook} computes a signature (for tests of a receiver).
 *
 * Each delivery carries `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` entries of
 * `"{id}.{timestamp}.{body}"`, keyed by the base64-decoded part of the `whsec_...` secret
 * (two entries while a rotated-out secret still signs). Uses Web Crypto (`crypto.subtle`,
 * global in Node 20 and browsers): no dependency.
 */

import type { WebhookPayload } from "./types.js";

/** The delivery was not signed by the given secret(s), is too old or new, or is malformed. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/** The default tolerance between `webhook-timestamp` and now, either way (replays). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
const SECRET_PREFIX = "whsec_";
/** Entries of one header considered at most (a header is a few entries; this bounds work). */
const MAX_SIGNATURES = 16;

/** Request headers as a `Headers` (fetch, undici) or a plain object (`node:http`'s
 * `req.headers`; names in any case). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** Accepted distance of `webhook-timestamp` from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** What "now" is (tests); default the clock. */
  now?: Date | number;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(" ") : value;
  }
  return undefined;
}

function decodeBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The HMAC key of a `whsec_...` secret (the prefix is optional). */
function secretKey(secret: string): Uint8Array {
  const key = decodeBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  if (key === undefined || key.length === 0) throw new TypeError("a webhook secret is 'whsec_' followed by base64");
  return key;
}

function bodyBytes(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === "string") return new TextEncoder().encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

async function hmac(key: Uint8Array, id: string, timestamp: string, body: Uint8Array): Promise<Uint8Array> {
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix, 0);
  message.set(body, prefix.length);
  const cryptoKey = await crypto.subtle.importKey("raw", new Uint8Array(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, message));
}

/** Equal bytes, in time independent of where they differ. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** The `webhook-signature` entry (`v1,<base64>`) of a delivery signed with `secret`. */
export async function signWebhook(secret: string, id: string, timestamp: number | Date, body: string | Uint8Array | ArrayBuffer): Promise<string> {
  const seconds = typeof timestamp === "number" ? Math.trunc(timestamp) : Math.floor(timestamp.getTime() / 1000);
  return `v1,${encodeBase64(await hmac(secretKey(secret), id, String(seconds), bodyBytes(body)))}`;
}

/**
 * Verifies a delivery and returns its payload (`{type, timestamp, data}`); throws
 * {@link WebhookVerificationError} otherwise. `body` must be the raw request body, exactly
 * as received (not re-serialised JSON). `secret` may be several secrets (a receiver moving to
 * a rotated one): any of them verifies.
 */
export async function verifyWebhook(
  secret: string | string[],
  headers: WebhookHeaders,
  body: string | Uint8Array | ArrayBuffer,
  options: VerifyOptions = {},
): Promise<WebhookPayload> {
  const secrets = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0) throw new TypeError("verifyWebhook needs a secret");
  const keys = secrets.map(secretKey);
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature");
  if (!/^[0-9]{1,12}$/.test(timestamp)) throw new WebhookVerificationError("webhook-timestamp is not unix seconds");
  const nowValue = options.now ?? Date.now();
  const now = Math.floor((typeof nowValue === "number" ? nowValue : nowValue.getTime()) / 1000);
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  const sent = Number(timestamp);
  if (sent < now - tolerance) throw new WebhookVerificationError("the delivery is too old (webhook-timestamp)");
  if (sent > now + tolerance) throw new WebhookVerificationError("the delivery is from the future (webhook-timestamp)");
  const given: Uint8Array[] = [];
  for (const entry of signatures.split(" ").slice(0, MAX_SIGNATURES)) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const mac = decodeBase64(entry.slice(comma + 1));
    if (mac !== undefined) given.push(mac);
  }
  const raw = bodyBytes(body);
  let valid = false;
  for (const key of keys) {
    const expected = await hmac(key, id, timestamp, raw);
    for (const mac of given) valid = constantTimeEqual(expected, mac) || valid;
  }
  if (!valid) throw new WebhookVerificationError("no valid v1 signature for the given secret(s)");
  try {
    return JSON.parse(new TextDecoder().decode(raw)) as WebhookPayload;
  } catch {
    throw new WebhookVerificationError("the signed body is not JSON");
  }
}
