/** Retries against the real gateway: `retry-after` honoured within a bounded budget, only
 * for what may be repeated; timeouts. Requests are counted through the `fetch` option. */

import assert from "node:assert/strict";
import { type Socket, createServer } from "node:net";
import { after, before, test } from "node:test";

import { APIConnectionError, APITimeoutError, GatewayClient, NotFoundError, RateLimitError } from "../src/index.js";
import { ADMIN_TOKEN, DEMO_KEY, type Running, startGateway, startUpstreamGateway, unique } from "./harness.js";

let upstream: Running;
let demo: Running;

before(async () => {
  [upstream, demo] = await Promise.all([startUpstreamGateway(), startGateway()]);
});
after(() => Promise.all([upstream.stop(), demo.stop()]));

function counting(): { fetch: typeof fetch; sent: string[] } {
  const sent: string[] = [];
  const wrapped = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    sent.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
    return fetch(input, init);
  };
  return { fetch: wrapped as typeof fetch, sent };
}

test("retry-after is honoured until the retries run out", async () => {
  const c = counting();
  const app = new GatewayClient({ baseURL: upstream.url, apiKey: DEMO_KEY, maxRetries: 1, fetch: c.fetch });
  const err = await app.query("hello").catch((e: unknown) => e);
  assert.ok(err instanceof RateLimitError, String(err));
  assert.equal(err.retryAfter, 1);
  assert.equal(err.retryable, true);
  assert.deepEqual(c.sent, ["POST /query", "POST /query"]);
});

test("a wait beyond the budget is not taken", async () => {
  const c = counting();
  const app = new GatewayClient({ baseURL: upstream.url, apiKey: DEMO_KEY, maxRetries: 5, maxRetryWait: 500, fetch: c.fetch });
  const err = await app.query("hello").catch((e: unknown) => e);
  assert.ok(err instanceof RateLimitError);
  assert.equal(err.retryAfter, 1, "the caller learns when to come back");
  assert.deepEqual(c.sent, ["POST /query"]);
});

test("a key's rate limit surfaces with its retry-after", async () => {
  const admin = new GatewayClient({ baseURL: demo.url, apiKey: ADMIN_TOKEN });
  const tenant = (await admin.tenants.create({ id: unique("rpm") })).id;
  const key = await admin.keys.create({ tenant, name: "one-a-minute", limits: { rpm: 1 } });
  const c = counting();
  const app = new GatewayClient({ baseURL: demo.url, apiKey: key.secret, maxRetries: 3, fetch: c.fetch });
  await app.query("first");
  const err = await app.query("second").catch((e: unknown) => e);
  assert.ok(err instanceof RateLimitError, String(err));
  assert.ok(err.retryAfter !== undefined && err.retryAfter >= 1 && err.retryAfter <= 60);
  assert.match(err.message, /rpm/);
  assert.equal(c.sent.length, 2, "a wait of up to a minute is beyond the 30 s budget");
});

test("client errors are not retried", async () => {
  const c = counting();
  const admin = new GatewayClient({ baseURL: demo.url, apiKey: ADMIN_TOKEN, maxRetries: 3, fetch: c.fetch });
  await assert.rejects(admin.tenants.get(unique("missing")), NotFoundError);
  assert.equal(c.sent.length, 1);
});

test("connection errors are retried, then thrown", async () => {
  const c = counting();
  const app = new GatewayClient({ baseURL: "http://127.0.0.1:9", apiKey: "token-0123456789abcdef", maxRetries: 2, maxRetryWait: 5000, fetch: c.fetch });
  await assert.rejects(app.tenants.list(), (e: unknown) => e instanceof APIConnectionError && /127\.0\.0\.1:9/.test(e.message));
  assert.equal(c.sent.length, 3);
});

test("timeouts: a GET is retried, a create is not", async () => {
  // A server that accepts connections and never answers.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const address = silent.address();
  assert.ok(address && typeof address === "object");
  try {
    const c = counting();
    const app = new GatewayClient({ baseURL: `http://127.0.0.1:${address.port}`, apiKey: "token-0123456789abcdef", timeout: 200, maxRetries: 2, fetch: c.fetch });
    await assert.rejects(app.tenants.list(), APITimeoutError);
    assert.equal(c.sent.length, 3);
    await assert.rejects(app.keys.create({ tenant: "t", name: "k" }), APITimeoutError);
    assert.equal(c.sent.length, 4, "a create that may have reached the gateway is not retried");
    const aborted = new AbortController();
    aborted.abort(new Error("stop"));
    await assert.rejects(app.tenants.list({ signal: aborted.signal }), /stop/);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
