/** The inference helpers against mock upstreams behind the real gateway: the `openai` npm
 * package configured by the SDK, the fetch wrapper, typed metadata, and `/query`. */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import OpenAI from "openai";

import { GatewayClient, type ResponseMetadata, gatewayMetadata, gatewayOpenAIConfig } from "../src/index.js";
import { ADMIN_TOKEN, DEMO_KEY, type Running, startGateway, startUpstreamGateway, unique } from "./harness.js";

let upstream: Running;
let demo: Running;
const HELLO = [{ role: "user" as const, content: "Hello gateway" }];

before(async () => {
  [upstream, demo] = await Promise.all([startUpstreamGateway(), startGateway()]);
});
after(() => Promise.all([upstream.stop(), demo.stop()]));

test("the openai package through the gateway, with metadata", async () => {
  const seen: ResponseMetadata[] = [];
  const app = new GatewayClient({ baseURL: upstream.url, apiKey: DEMO_KEY });
  const openai = new OpenAI(app.openAIConfig({ maxRetries: 0, onResponse: (m) => seen.push(m) }));
  assert.equal(openai.baseURL, `${upstream.url}/v1`);
  const { data, response } = await openai.chat.completions.create({ model: "gpt-test", messages: HELLO }).withResponse();
  assert.match(data.choices[0]?.message.content ?? "", /Hello gateway/);
  const meta = gatewayMetadata(response);
  assert.equal(meta.provider, "openai-mock");
  assert.equal(meta.model, "gpt-4o-mini");
  assert.equal(meta.attempts, 1);
  assert.ok(meta.requestId && meta.requestId.length >= 16);
  assert.equal(seen.length, 1, "the fetch wrapper reports every response");
  assert.equal(seen[0]?.requestId, meta.requestId);
});

test("fallback shows in attempts; streams report metadata too", async () => {
  const seen: ResponseMetadata[] = [];
  const openai = new OpenAI(gatewayOpenAIConfig({ baseURL: upstream.url, apiKey: DEMO_KEY, maxRetries: 0, onResponse: (m) => seen.push(m) }));
  const { response } = await openai.chat.completions.create({ model: "fallback-test", messages: HELLO }).withResponse();
  assert.equal(gatewayMetadata(response).attempts, 2);
  const stream = await openai.chat.completions.create({ model: "gpt-test", messages: HELLO, stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  assert.match(text, /Hello gateway/);
  assert.equal(seen.at(-1)?.provider, "openai-mock");
});

test("dropped parameters are listed", async () => {
  const openai = new OpenAI(gatewayOpenAIConfig({ baseURL: upstream.url, apiKey: DEMO_KEY, maxRetries: 0 }));
  const { response } = await openai.chat.completions
    .create({ model: "claude-test", messages: HELLO, seed: 7, logit_bias: { "50256": -100 } })
    .withResponse();
  assert.deepEqual(gatewayMetadata(response).droppedParams.sort(), ["logit_bias", "seed"]);
  const plain = await openai.chat.completions.create({ model: "claude-test", messages: HELLO }).withResponse();
  assert.deepEqual(gatewayMetadata(plain.response).droppedParams, []);
});

test("rate-limit headers are typed", async () => {
  const admin = new GatewayClient({ baseURL: upstream.url, apiKey: ADMIN_TOKEN });
  const tenant = (await admin.tenants.create({ id: unique("rl") })).id;
  const key = await admin.keys.create({ tenant, name: "limited", limits: { rpm: 50, tpm: 100000 } });
  const openai = new OpenAI(new GatewayClient({ baseURL: upstream.url, apiKey: key.secret }).openAIConfig({ maxRetries: 0 }));
  const { response } = await openai.chat.completions.create({ model: "gpt-test", messages: HELLO }).withResponse();
  const limits = gatewayMetadata(response).rateLimit;
  assert.equal(limits.limitRequests, 50);
  assert.equal(limits.remainingRequests, 49);
  assert.equal(limits.limitTokens, 100000);
  assert.ok(limits.resetRequests !== undefined && limits.resetRequests >= 0 && limits.resetRequests <= 60);
});

test("the openai package's errors carry the gateway metadata", async () => {
  const openai = new OpenAI(gatewayOpenAIConfig({ baseURL: upstream.url, apiKey: DEMO_KEY, maxRetries: 0 }));
  const err = await openai.chat.completions.create({ model: "limited-test", messages: HELLO }).catch((e: unknown) => e);
  assert.ok(err instanceof OpenAI.RateLimitError, String(err));
  const meta = gatewayMetadata(err.headers as unknown as Headers);
  assert.equal(meta.retryAfter, 1);
  assert.ok(meta.requestId);
});

test("the fetch wrapper: Anthropic messages through the gateway", async () => {
  const app = new GatewayClient({ baseURL: upstream.url, apiKey: DEMO_KEY });
  const seen: ResponseMetadata[] = [];
  const call = app.fetch({ onResponse: (m) => seen.push(m) });
  const config = app.anthropicConfig();
  assert.equal(config.baseURL, upstream.url);
  const r = await call("/v1/messages", {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-test", max_tokens: 50, messages: HELLO }),
  });
  assert.equal(r.status, 200);
  const msg = (await r.json()) as { content: { type: string; text: string }[]; stop_reason: string };
  assert.match(msg.content.map((b) => b.text).join(""), /Hello gateway/);
  assert.equal(seen[0]?.provider, "claude-mock");
  assert.equal(seen[0]?.model, "claude-sonnet-4-5");
});

test("/query reports its cost and metadata", async () => {
  const app = new GatewayClient({ baseURL: demo.url, apiKey: DEMO_KEY });
  const result = await app.query("Hello query", { max_tokens: 20, temperature: 0.5 });
  assert.match(result.response, /Hello query/);
  assert.deepEqual(result.cascade_path, ["demo"]);
  assert.ok(result.usage.total_tokens > 0);
  assert.equal(result.metadata.provider, "demo");
  assert.equal(result.metadata.costUsd, result.cost_estimate_usd ?? undefined);
  assert.equal((await app.health()).status, "ok");
  assert.equal((await app.ready()).status, "ready");
});
