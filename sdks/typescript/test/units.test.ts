/** Pure functions of the SDK: header parsing, error mapping, parameters and the retry rule. */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  API_VERSION,
  ConflictError,
  GatewayClient,
  GatewayError,
  InternalServerError,
  NotFoundError,
  PolicyViolationError,
  RateLimitError,
  RetryPolicy,
  UpstreamError,
  UpstreamTimeoutError,
  VERSION,
  errorFromResponse,
  gatewayMetadata,
} from "../src/index.js";
import { headerSeconds, parseRetryAfter } from "../src/headers.js";
import { body, segment, timeParam } from "../src/transport.js";

test("retry-after headers", () => {
  assert.equal(parseRetryAfter({ "retry-after-ms": "1500", "retry-after": "9" }), 1.5);
  assert.equal(parseRetryAfter({ "retry-after": "3" }), 3);
  assert.equal(parseRetryAfter({ "retry-after": "-3" }), undefined);
  assert.equal(parseRetryAfter({ "retry-after": "soon" }), undefined);
  assert.equal(parseRetryAfter({ "retry-after": "99999999" }), 86_400, "capped at a day");
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  assert.equal(parseRetryAfter({ "retry-after": "Thu, 01 Jan 2026 12:00:30 GMT" }, now), 30);
  assert.equal(parseRetryAfter({}), undefined);
  assert.equal(headerSeconds({ r: "1.250s" }, "r"), 1.25);
  assert.equal(headerSeconds({ r: "20ms" }, "r"), 0.02);
  assert.equal(headerSeconds({ r: "1m30s" }, "r"), 90);
  assert.equal(headerSeconds({ r: "7" }, "r"), 7);
  assert.equal(headerSeconds({ r: "x" }, "r"), undefined);
});

test("errors are typed by status and code", () => {
  const conflict = errorFromResponse(400, {}, '{"error":{"message":"taken","type":"invalid_request_error","code":"already_exists","param":"id"}}');
  assert.ok(conflict instanceof ConflictError && conflict instanceof GatewayError);
  assert.equal(conflict.message, "taken");
  assert.equal(conflict.param, "id");
  assert.ok(errorFromResponse(404, {}, '{"error":{"message":"no"}}') instanceof NotFoundError);
  assert.ok(errorFromResponse(422, {}, '{"error":{"message":"blocked"}}') instanceof PolicyViolationError);
  const limited = errorFromResponse(429, { "retry-after": "2", "x-request-id": "r1" }, '{"error":{"message":"slow down"}}');
  assert.ok(limited instanceof RateLimitError);
  assert.equal(limited.retryAfter, 2);
  assert.equal(limited.requestId, "r1");
  assert.ok(errorFromResponse(504, {}, "") instanceof UpstreamTimeoutError);
  assert.ok(errorFromResponse(529, {}, '{"error":{"type":"upstream_error","message":"overloaded"}}') instanceof UpstreamError);
  assert.ok(errorFromResponse(599, {}, "oops") instanceof InternalServerError);
  const anthropic = errorFromResponse(404, {}, '{"type":"error","error":{"type":"not_found_error","message":"model nope"}}');
  assert.equal(anthropic.message, "model nope");
  const html = errorFromResponse(502, {}, "<html>bad gateway</html>");
  assert.match(html.message, /bad gateway/);
  assert.equal(html.body, "<html>bad gateway</html>");
});

test("the retry rule", () => {
  const p = new RetryPolicy({ maxRetries: 2, maxWait: 10_000 });
  assert.equal(p.afterStatus(0, 0, 429, 1, false), 1000);
  assert.equal(p.afterStatus(0, 0, 503, 2, false), undefined, "POST only on 429");
  assert.equal(p.afterStatus(0, 0, 503, 2, true), 2000);
  assert.equal(p.afterStatus(0, 0, 400, undefined, true), undefined);
  assert.equal(p.afterStatus(2, 0, 429, 1, true), undefined, "out of retries");
  assert.equal(p.afterStatus(0, 9500, 429, 1, true), undefined, "over the budget");
  const backoff = p.afterStatus(1, 0, 502, undefined, true);
  assert.ok(backoff !== undefined && backoff >= 500 && backoff <= 1000);
  assert.notEqual(p.afterConnectionError(0, 0, false, false), undefined);
  assert.equal(p.afterConnectionError(0, 0, true, false), undefined);
  assert.throws(() => new RetryPolicy({ maxRetries: -1 }), RangeError);
});

test("parameters", () => {
  assert.equal(timeParam(new Date(Date.UTC(2024, 4, 1, 12))), "2024-05-01T12:00:00.000Z");
  assert.equal(timeParam(1714564800.7), "1714564800");
  assert.equal(timeParam("2024-05-01"), "2024-05-01");
  assert.equal(segment("key_01 /x"), "key_01%20%2Fx");
  for (const bad of ["", ".", ".."]) assert.throws(() => segment(bad), TypeError);
  assert.deepEqual(body({ a: 1, b: null, c: undefined, d: new Date(0) }), { a: 1, b: null, d: "1970-01-01T00:00:00.000Z" });
});

test("metadata from headers", () => {
  const meta = gatewayMetadata({
    "X-Request-Id": "r",
    "x-gateway-provider": "p",
    "x-gateway-model": "m",
    "x-gateway-attempts": "2",
    "x-gateway-cache": "hit",
    "x-gateway-region": "eu",
    "x-ratelimit-limit-requests": "60",
    "x-ratelimit-remaining-requests": "59",
    "x-ratelimit-reset-requests": "1.000s",
  });
  assert.deepEqual([meta.requestId, meta.provider, meta.model, meta.attempts, meta.cache, meta.region], ["r", "p", "m", 2, "hit", "eu"]);
  assert.equal(meta.rateLimit.limitRequests, 60);
  assert.equal(meta.rateLimit.resetRequests, 1);
  assert.equal(meta.rateLimit.limitTokens, undefined);
  assert.equal(gatewayMetadata(new Headers({ "x-gateway-attempts": "3" })).attempts, 3);
});

test("the credential never shows when a client is inspected", async () => {
  const { inspect } = await import("node:util");
  const client = new GatewayClient({ baseURL: "http://127.0.0.1:9", apiKey: "sk-gw-secret-value-0123456789" });
  assert.equal(inspect(client, { depth: 10 }).includes("sk-gw-secret-value"), false);
  assert.equal(JSON.stringify(client).includes("sk-gw-secret-value"), false);
  assert.equal(client.openAIConfig().apiKey, "sk-gw-secret-value-0123456789");
});

test("versions agree; no runtime dependencies", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as Record<string, unknown>;
  assert.equal(pkg.version, VERSION);
  assert.equal(API_VERSION, `v${VERSION.split(".")[0]}`, "the SDK's major version is the API's");
  assert.equal(pkg.dependencies, undefined, "zero runtime dependencies");
});
