/** The SDK covers every operation of the gateway's own APIs in `docs/openapi.json`, and each
 * method named here really sends that operation. When the specification gains an operation
 * (batches, feedback, templates admin views, ...), this fails until the SDK has a method.
 *
 * The document is `LLM_GATEWAY_OPENAPI` (`cargo xtask test` sets it), else
 * `../../docs/openapi.json` from the working directory (`npm test` in `sdks/typescript`). */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";

import { GatewayClient } from "../src/index.js";

type Invoke = (c: GatewayClient) => Promise<unknown> | AsyncGenerator<unknown>;

/** `METHOD /path/with/{}/parameters` -> a call of the SDK that sends it. */
const COVERED: Record<string, Invoke> = {
  "GET /admin/v1/tenants": (c) => c.tenants.list(),
  "POST /admin/v1/tenants": (c) => c.tenants.create({ id: "t" }),
  "GET /admin/v1/tenants/{}": (c) => c.tenants.get("t"),
  "PATCH /admin/v1/tenants/{}": (c) => c.tenants.update("t", { name: "n" }),
  "DELETE /admin/v1/tenants/{}": (c) => c.tenants.delete("t"),
  "GET /admin/v1/keys": (c) => c.keys.list(),
  "POST /admin/v1/keys": (c) => c.keys.create({ tenant: "t", name: "n" }),
  "GET /admin/v1/keys/{}": (c) => c.keys.get("k"),
  "PATCH /admin/v1/keys/{}": (c) => c.keys.update("k", { name: "n" }),
  "POST /admin/v1/keys/{}/rotate": (c) => c.keys.rotate("k"),
  "POST /admin/v1/keys/{}/revoke": (c) => c.keys.revoke("k"),
  "POST /admin/v1/keys/{}/resume": (c) => c.keys.resume("k"),
  "GET /admin/v1/anomalies": (c) => c.anomalies.list({ tenant: "t", limit: 5 }),
  "GET /admin/v1/usage": (c) => c.usage.report(),
  "GET /admin/v1/feedback": (c) => c.feedback.list(),
  "GET /admin/v1/feedback/summary": (c) => c.feedback.summary(),
  "POST /v1/feedback": (c) => c.feedback.give("req-1", "up"),
  "GET /admin/v1/audit": (c) => c.audit.list(),
  "GET /admin/v1/audit/verify": (c) => c.audit.verify(),
  "GET /admin/v1/deployments": (c) => c.deployments.list(),
  "POST /admin/v1/cache/invalidate": (c) => c.cache.invalidate(),
  "GET /admin/v1/me": (c) => c.console.me(),
  "GET /admin/v1/config": (c) => c.console.config(),
  "POST /admin/v1/guardrails/check": (c) => c.console.checkGuardrails("x"),
  "GET /admin/v1/webhooks": (c) => c.webhooks.list(),
  "POST /admin/v1/webhooks": (c) => c.webhooks.create({ tenant: "t", url: "https://h.example/x", events: ["key.created"] }),
  "GET /admin/v1/webhooks/{}": (c) => c.webhooks.get("ep"),
  "PATCH /admin/v1/webhooks/{}": (c) => c.webhooks.update("ep", { enabled: false }),
  "DELETE /admin/v1/webhooks/{}": (c) => c.webhooks.delete("ep"),
  "POST /admin/v1/webhooks/{}/rotate-secret": (c) => c.webhooks.rotateSecret("ep"),
  "GET /admin/v1/webhooks/{}/deliveries": (c) => c.webhooks.deliveries("ep"),
  "POST /admin/v1/webhooks/deliveries/{}/redeliver": (c) => c.webhooks.redeliver("msg"),
  "POST /admin/v1/backups": (c) => c.backups.create(),
  "GET /admin/v1/backups": (c) => c.backups.list(),
  "GET /admin/v1/backups/{}": (c) => c.backups.get("gateway-20261206T210000000Z"),
  "GET /admin/v1/tenants/{}/encryption": (c) => c.encryption.status("t"),
  "POST /admin/v1/tenants/{}/encryption/rotate": (c) => c.encryption.rotate("t"),
  "POST /admin/v1/tenants/{}/encryption/reencrypt": (c) => c.encryption.reencrypt("t"),
  "POST /admin/v1/tenants/{}/encryption/open": (c) => c.encryption.open("t", ["gwe1:AAAA"]),
  "POST /admin/v1/encryption/rewrap": (c) => c.encryption.rewrap(),
  "GET /admin/v1/templates": (c) => c.templates.list(),
  "POST /admin/v1/templates": (c) => c.templates.create({ id: "greet", prompt: "Hi {{ name }}" }),
  "GET /admin/v1/templates/{}": (c) => c.templates.get("greet"),
  "GET /admin/v1/templates/{}/versions/{}": (c) => c.templates.getVersion("greet", 1),
  "DELETE /admin/v1/templates/{}": (c) => c.templates.delete("greet"),
  "POST /admin/v1/templates/{}/render": (c) => c.templates.render("greet", { variables: { name: "x" } }),
  "POST /admin/v1/prompts/lint": (c) => c.prompts.lint({ prompt: "Hi" }),
  "GET /v1/async/{}": (c) => c.asyncCalls.get("async_0193a5c2e1d07c6a9f3b2d1e0f4a5b6c"),
  "DELETE /v1/async/{}": (c) => c.asyncCalls.cancel("async_0193a5c2e1d07c6a9f3b2d1e0f4a5b6c"),
  "POST /v1/guardrails/check": (c) => c.guardrails.check("x"),
  "GET /v1/models": (c) => c.models.list(),
  "POST /query": (c) => c.query("x"),
  "GET /health": (c) => c.health(),
  "GET /ready": (c) => c.ready(),
};

/** The gateway's own APIs: what the SDK must cover (model calls are the official SDKs'). */
const OWN = /^\/(admin\/v1\/|v1\/guardrails\/|v1\/async\/|v1\/feedback$)/;
const normalise = (path: string): string => path.replace(/\{[^}]*\}/g, "{}");

function spec(): { paths: Record<string, Record<string, unknown>> } {
  const path = process.env.LLM_GATEWAY_OPENAPI ?? resolve(process.cwd(), "../../docs/openapi.json");
  assert.ok(existsSync(path), `${path} does not exist (cargo xtask openapi writes it)`);
  return JSON.parse(readFileSync(path, "utf8")) as { paths: Record<string, Record<string, unknown>> };
}

test("the SDK covers every operation of the specification's own APIs", () => {
  const operations = new Set<string>();
  for (const [path, item] of Object.entries(spec().paths)) {
    if (!OWN.test(path)) continue;
    for (const method of Object.keys(item)) {
      if (["get", "post", "put", "patch", "delete"].includes(method)) operations.add(`${method.toUpperCase()} ${normalise(path)}`);
    }
  }
  const missing = [...operations].filter((op) => !(op in COVERED)).sort();
  assert.deepEqual(missing, [], "operations in docs/openapi.json without an SDK method");
  const all = new Set<string>();
  for (const [path, item] of Object.entries(spec().paths)) {
    for (const method of Object.keys(item)) all.add(`${method.toUpperCase()} ${normalise(path)}`);
  }
  const unknown = Object.keys(COVERED).filter((op) => !all.has(op));
  assert.deepEqual(unknown, [], "operations named here that the specification does not have");
});

test("each method named here sends its operation", async () => {
  let sent: string | undefined;
  const recording: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    sent = `${init?.method ?? "GET"} ${url.pathname}`;
    const body = JSON.stringify({ object: "list", data: [], next_after: null });
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  };
  const client = new GatewayClient({ baseURL: "http://gateway.invalid", apiKey: "token-0123456789abcdef", fetch: recording, maxRetries: 0 });
  for (const [operation, invoke] of Object.entries(COVERED)) {
    sent = undefined;
    await invoke(client);
    const [method, template] = operation.split(" ") as [string, string];
    const pattern = new RegExp(`^${method} ${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replaceAll("{}", "[^/]+")}$`);
    assert.match(sent ?? "(nothing sent)", pattern, operation);
  }
});
