/**
 * What the gateway says about a call in its response headers, as typed fields.
 *
 * ```ts
 * const { data, response } = await openai.chat.completions.create({...}).withResponse();
 * const meta = gatewayMetadata(response); // meta.provider, meta.attempts, meta.cache, ...
 * ```
 */

import { type HeaderSource, headerInt, headerRecord, headerSeconds, parseRetryAfter } from "./headers.js";

/** OpenAI-named `x-ratelimit-*` headers: the tightest request and token rates. */
export interface RateLimitInfo {
  limitRequests?: number | undefined;
  remainingRequests?: number | undefined;
  /** Seconds until the request budget is whole again. */
  resetRequests?: number | undefined;
  limitTokens?: number | undefined;
  remainingTokens?: number | undefined;
  /** Seconds until the token budget is whole again. */
  resetTokens?: number | undefined;
}

/** The gateway's headers on one answer. */
export interface ResponseMetadata {
  /** `x-request-id`: quote it when reporting a problem. */
  requestId?: string | undefined;
  /** `x-gateway-provider`: the provider (deployment) that answered. */
  provider?: string | undefined;
  /** `x-gateway-model`: the upstream model that answered. */
  model?: string | undefined;
  /** `x-gateway-attempts`: upstream attempts made, retries and fallbacks included. */
  attempts?: number | undefined;
  /** `x-gateway-region`: the deployment's region tag, when it has one. */
  region?: string | undefined;
  /** `x-gateway-dropped-params`: request parameters the provider has no form for, left out. */
  droppedParams: string[];
  /** `x-gateway-cache`: `hit`, `miss` or `bypass` when the response cache applies. */
  cache?: "hit" | "miss" | "bypass" | (string & {}) | undefined;
  rateLimit: RateLimitInfo;
  /** Seconds from `retry-after-ms` / `retry-after` (on 429 and some 5xx). */
  retryAfter?: number | undefined;
  /** The estimated cost when the answer reports it (`/query` does); else undefined. */
  costUsd?: number | undefined;
  /** Every header, names in lower case. */
  headers: Record<string, string>;
}

/** The gateway metadata of a `Response`, a `Headers` or a plain header record. */
export function gatewayMetadata(source: HeaderSource, costUsd?: number): ResponseMetadata {
  const h = headerRecord(source);
  return {
    requestId: h["x-request-id"],
    provider: h["x-gateway-provider"],
    model: h["x-gateway-model"],
    attempts: headerInt(h, "x-gateway-attempts"),
    region: h["x-gateway-region"],
    droppedParams: (h["x-gateway-dropped-params"] ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== ""),
    cache: h["x-gateway-cache"],
    rateLimit: {
      limitRequests: headerInt(h, "x-ratelimit-limit-requests"),
      remainingRequests: headerInt(h, "x-ratelimit-remaining-requests"),
      resetRequests: headerSeconds(h, "x-ratelimit-reset-requests"),
      limitTokens: headerInt(h, "x-ratelimit-limit-tokens"),
      remainingTokens: headerInt(h, "x-ratelimit-remaining-tokens"),
      resetTokens: headerSeconds(h, "x-ratelimit-reset-tokens"),
    },
    retryAfter: parseRetryAfter(h),
    costUsd,
    headers: h,
  };
}
