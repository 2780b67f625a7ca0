/**
 * Model calls through the gateway with the official SDKs, one call away, and a `fetch`
 * wrapper for everything else (plain `fetch` code, other SDKs, streams).
 *
 * ```ts
 * import OpenAI from "openai";
 * const openai = new OpenAI(gatewayOpenAIConfig({ baseURL, apiKey, onResponse: (m) => log(m.provider) }));
 * ```
 */

import { type ResponseMetadata, gatewayMetadata } from "./metadata.js";
import { VERSION } from "./version.js";

export interface GatewayFetchOptions {
  /** The gateway's root URL; relative request paths (`/v1/models`) are resolved against it. */
  baseURL?: string;
  /** Sent as `Authorization: Bearer` unless the request already carries credentials. */
  apiKey?: string;
  /** Called with the gateway's metadata of every response (streams: when the headers arrive). */
  onResponse?: (metadata: ResponseMetadata, response: Response) => void;
  /** The `fetch` to wrap (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * A `fetch` for the gateway: resolves relative paths against `baseURL`, adds the key, and
 * reports each response's gateway metadata to `onResponse`. Bodies and streams pass through.
 */
export function gatewayFetch(options: GatewayFetchOptions = {}): typeof fetch {
  const inner = options.fetch ?? globalThis.fetch;
  const base = options.baseURL?.replace(/\/+$/, "");
  const wrapped = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    let target: RequestInfo | URL = input;
    if (typeof input === "string" && input.startsWith("/") && base) target = `${base}${input}`;
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (options.apiKey && !headers.has("authorization") && !headers.has("x-api-key")) {
      headers.set("authorization", `Bearer ${options.apiKey}`);
    }
    const response = await inner(target, { ...init, headers });
    if (options.onResponse) {
      try {
        options.onResponse(gatewayMetadata(response), response);
      } catch {
        // An observer's failure must not fail the call.
      }
    }
    return response;
  };
  return wrapped as typeof fetch;
}

export interface InferenceOptions {
  /** The gateway's root URL, without `/v1`. */
  baseURL: string;
  /** A gateway API key. */
  apiKey: string;
  /** Called with the gateway's metadata of every response. */
  onResponse?: (metadata: ResponseMetadata, response: Response) => void;
  /** Retries of the SDK itself (its own default when absent). */
  maxRetries?: number;
  /** Milliseconds per request (the SDK's own default when absent). */
  timeout?: number;
  fetch?: typeof fetch;
}

/** Options for `new OpenAI(...)` (the `openai` npm package, v4 and later) aimed at the gateway. */
export interface OpenAIConfig {
  baseURL: string;
  apiKey: string;
  fetch: typeof fetch;
  defaultHeaders: Record<string, string>;
  maxRetries?: number;
  timeout?: number;
}

function common(o: InferenceOptions): { fetch: typeof fetch; defaultHeaders: Record<string, string>; maxRetries?: number; timeout?: number } {
  const out: { fetch: typeof fetch; defaultHeaders: Record<string, string>; maxRetries?: number; timeout?: number } = {
    // The SDK sets its own credential header: the wrapper only observes.
    fetch: gatewayFetch({ onResponse: o.onResponse, fetch: o.fetch }),
    defaultHeaders: { "x-gateway-sdk": `typescript/${VERSION}` },
  };
  if (o.maxRetries !== undefined) out.maxRetries = o.maxRetries;
  if (o.timeout !== undefined) out.timeout = o.timeout;
  return out;
}

/** `new OpenAI(gatewayOpenAIConfig({ baseURL, apiKey }))`: the official SDK through the gateway. */
export function gatewayOpenAIConfig(o: InferenceOptions): OpenAIConfig {
  return { baseURL: `${o.baseURL.replace(/\/+$/, "")}/v1`, apiKey: o.apiKey, ...common(o) };
}

/** Options for `new Anthropic(...)` (`@anthropic-ai/sdk`) aimed at the gateway's `/v1/messages`. */
export interface AnthropicConfig {
  baseURL: string;
  apiKey: string;
  fetch: typeof fetch;
  defaultHeaders: Record<string, string>;
  maxRetries?: number;
  timeout?: number;
}

export function gatewayAnthropicConfig(o: InferenceOptions): AnthropicConfig {
  return { baseURL: o.baseURL.replace(/\/+$/, ""), apiKey: o.apiKey, ...common(o) };
}
