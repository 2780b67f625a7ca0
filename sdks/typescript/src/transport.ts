/**
 * Sending one described call to the gateway with the global `fetch`: timeouts, retries and
 * typed errors. A resource method only describes its call ({@link Call}); this does the rest.
 */

import { APIConnectionError, APIStatusError, APITimeoutError, GatewayError, errorFromResponse } from "./errors.js";
import { headerRecord } from "./headers.js";
import { type ResponseMetadata, gatewayMetadata } from "./metadata.js";
import { RetryPolicy } from "./retry.js";
import { VERSION } from "./version.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:8080";
/** Per attempt, in milliseconds. */
export const DEFAULT_TIMEOUT = 30_000;
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
/** Error codes of a connection that never opened: the gateway cannot have acted. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/** One API call: what to send and how to read a successful answer. */
export interface Call<T> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  parse: (data: unknown, meta: ResponseMetadata) => T;
  /** Whether repeating it is harmless; by default, from the method. */
  idempotent?: boolean;
  /** Request headers of this call only (`prefer`, ...). */
  headers?: Record<string, string>;
  /** Whether an error answer may be retried at all (by default, by the retry policy only):
   * an async job's recorded answer is final, however retryable its status. */
  retryStatus?: (err: APIStatusError) => boolean;
}

/** Per-call options, on every method. */
export interface RequestOptions {
  /** Aborts the call (no retry follows). */
  signal?: AbortSignal;
  /** Milliseconds per attempt, instead of the client's. */
  timeout?: number;
}

export interface ClientOptions {
  /** The gateway's root URL (default `GATEWAY_URL` in Node, else `http://127.0.0.1:8080`). */
  baseURL?: string;
  /** The admin token or a gateway API key (default `GATEWAY_API_KEY`, else `GATEWAY_ADMIN_TOKEN`). */
  apiKey?: string;
  /** Milliseconds per attempt (default 30 000). */
  timeout?: number;
  /** Retries of a failed call (default 2; retryable statuses only). */
  maxRetries?: number;
  /** Most milliseconds one call may wait between retries in all (default 30 000). */
  maxRetryWait?: number;
  /** A `fetch` to use instead of the global one (proxies, instrumentation, tests). */
  fetch?: typeof fetch;
  /** Headers sent on every call. */
  defaultHeaders?: Record<string, string>;
}

/** `value` as one path segment, refusing what could address another path. */
export function segment(value: string, what = "id"): string {
  if (typeof value !== "string" || value === "" || value === "." || value === "..") {
    throw new TypeError(`invalid ${what}: ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(value);
}

/** A time filter: a `Date`, unix seconds, or a string the gateway accepts (RFC 3339, `YYYY-MM-DD`). */
export type TimeValue = Date | number | string;

export function timeParam(value: TimeValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError("invalid Date");
    return value.toISOString();
  }
  if (typeof value === "number") return String(Math.trunc(value));
  return value;
}

/** A JSON body without the fields left out (`undefined`; `null` is sent as null). */
export function body(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) out[name] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name] || undefined;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function wasSent(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  return !(cause?.code && NOT_SENT.has(cause.code));
}

/** What every call of one client shares, and the request loop. */
export class Transport {
  readonly baseURL: string;
  readonly timeout: number;
  readonly retry: RetryPolicy;
  // Private fields (#): the credential never shows when a client is logged or inspected.
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;

  constructor(o: ClientOptions = {}) {
    const url = (o.baseURL ?? env("GATEWAY_URL") ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(url)) throw new TypeError(`baseURL must start with http:// or https://, got ${url}`);
    const key = o.apiKey ?? env("GATEWAY_API_KEY") ?? env("GATEWAY_ADMIN_TOKEN");
    if (!key) throw new GatewayError("no credential: pass apiKey or set GATEWAY_API_KEY (or GATEWAY_ADMIN_TOKEN)");
    const fetchFn = o.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== "function") throw new GatewayError("no fetch: use Node 20+ or pass options.fetch");
    this.baseURL = url;
    this.#apiKey = key;
    this.timeout = o.timeout ?? DEFAULT_TIMEOUT;
    this.retry = new RetryPolicy({ maxRetries: o.maxRetries ?? 2, maxWait: o.maxRetryWait ?? 30_000 });
    this.#fetch = fetchFn;
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.defaultHeaders ?? {})) extra[k.toLowerCase()] = v;
    this.#headers = { accept: "application/json", "x-gateway-sdk": `typescript/${VERSION}`, ...extra, authorization: `Bearer ${key}` };
  }

  /** The credential this transport sends. */
  get apiKey(): string {
    return this.#apiKey;
  }

  url(call: Pick<Call<unknown>, "path" | "query">): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${this.baseURL}${call.path}${qs ? `?${qs}` : ""}`;
  }

  async send<T>(call: Call<T>, options: RequestOptions = {}): Promise<T> {
    const idempotent = call.idempotent ?? IDEMPOTENT.has(call.method);
    const headers = { ...this.#headers };
    for (const [k, v] of Object.entries(call.headers ?? {})) if (k.toLowerCase() !== "authorization") headers[k.toLowerCase()] = v;
    let payload: string | undefined;
    if (call.body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(call.body);
    }
    const url = this.url(call);
    let retry = 0;
    let waited = 0;
    for (;;) {
      let delay: number | undefined;
      try {
        const response = await this.attempt(url, call.method, headers, payload, options);
        return decode(call, response);
      } catch (err) {
        if (options.signal?.aborted) throw err;
        if (err instanceof APIStatusError) {
          if (call.retryStatus && !call.retryStatus(err)) throw err;
          delay = this.retry.afterStatus(retry, waited, err.status, err.retryAfter, idempotent);
        } else if (err instanceof APIConnectionError) {
          delay = this.retry.afterConnectionError(retry, waited, wasSent(err), idempotent);
        }
        if (delay === undefined) throw err;
      }
      await sleep(delay, options.signal);
      waited += delay;
      retry += 1;
    }
  }

  /** One request with its timeout; transport failures become {@link APIConnectionError}s. */
  private async attempt(url: string, method: string, headers: Record<string, string>, payload: string | undefined, options: RequestOptions): Promise<Answer> {
    const timeout = options.timeout ?? this.timeout;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new APITimeoutError(`the gateway at ${this.baseURL} did not answer within ${timeout} ms`)), timeout);
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const response = await this.#fetch(url, { method, headers, body: payload, signal: controller.signal });
      // The body is read within the same timeout.
      return { status: response.status, headers: headerRecord(response.headers), text: await response.text() };
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason ?? err;
      const reason = controller.signal.reason;
      if (reason instanceof APITimeoutError) throw reason;
      const cause = (err as { cause?: unknown }).cause ?? err;
      throw new APIConnectionError(`cannot reach the gateway at ${this.baseURL}: ${String((cause as Error)?.message ?? cause)}`, { cause });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** A whole answer, read. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

function decode<T>(call: Call<T>, { status, headers, text }: Answer): T {
  if (status >= 400) throw errorFromResponse(status, headers, text);
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    throw new GatewayError(`the gateway answered ${status} with a body that is not JSON (request id ${headers["x-request-id"]})`);
  }
  return call.parse(data, gatewayMetadata(headers));
}
