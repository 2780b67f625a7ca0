/** Prompt templates and the prompt linter against the real gateway: versions, history, a
 * dry-run render, a missing variable named in the 400, built-in templates read-only,
 * deletion, and lint findings with their rule ids. */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { BadRequestError, GatewayClient, NotFoundError } from "../src/index.js";
import { ADMIN_TOKEN, type Running, startGateway, unique } from "./harness.js";

let gw: Running;
let admin: GatewayClient;

before(async () => {
  gw = await startGateway();
  admin = new GatewayClient({ baseURL: gw.url, apiKey: ADMIN_TOKEN, maxRetries: 0 });
});
after(async () => {
  await gw.stop();
});

const SYSTEM = { role: "system" as const, content: "You answer support tickets. Respond in Markdown, at most 80 words." };

test("templates: versions, render, delete", async () => {
  const id = unique("reply");
  const user = { role: "user" as const, content: "Reply to:\n<<<{{ ticket }}>>>" };
  const first = await admin.templates.create({ id, tenant: "demo", description: "v1", messages: [SYSTEM, user] });
  assert.equal(first.version, 1);
  assert.equal(first.variables[0]?.name, "ticket");
  const again = await admin.templates.create({ id, tenant: "demo", description: "v1", messages: [SYSTEM, user] });
  assert.equal(again.version, 1, "the same definition is not a new version");
  assert.equal((await admin.templates.create({ id, tenant: "demo", prompt: "Hi {{ who }}" })).version, 2);

  const shown = await admin.templates.get(id, { tenant: "demo" });
  assert.deepEqual(shown.versions?.map((v) => v.version), [1, 2]);
  assert.deepEqual((await admin.templates.getVersion(id, 1, { tenant: "demo" })).messages?.[1], user);

  const out = await admin.templates.render(id, { tenant: "demo", version: 1, variables: { ticket: "My invoice is wrong" } });
  assert.equal(out.messages[1]?.content, "Reply to:\n<<<My invoice is wrong>>>");
  const missing = await admin.templates.render(id, { tenant: "demo", version: 1 }).catch((e: unknown) => e);
  assert.ok(missing instanceof BadRequestError && missing.message.includes("ticket"), String(missing));

  assert.ok((await admin.templates.list({ tenant: "demo" })).some((t) => t.id === id));
  assert.equal((await admin.templates.delete(id, { tenant: "demo" })).versions, 2);
  await assert.rejects(admin.templates.get(id, { tenant: "demo" }), NotFoundError);
});

test("templates: built-ins are listed, rendered and read-only", async () => {
  const builtins = (await admin.templates.list({ tenant: "demo" })).filter((t) => t.builtin).map((t) => t.id);
  assert.equal(builtins.length, 6);
  assert.ok(builtins.includes("builtin.summarise"));
  const out = await admin.templates.render("builtin.translate", { tenant: "demo", variables: { text: "Hello", target_language: "French" } });
  assert.ok(out.messages[1]?.content.includes("French"));
  await assert.rejects(admin.templates.delete("builtin.translate", { tenant: "demo" }), BadRequestError);
});

test("prompts: lint names its rules", async () => {
  const report = await admin.prompts.lint({ messages: [{ role: "system", content: "You help {{ customer }}." }] });
  assert.deepEqual(
    report.findings.map((f) => f.rule),
    ["variable-in-system-prompt", "missing-output-format", "unbounded-length"],
  );
  assert.deepEqual(report.summary, { errors: 1, warnings: 1, info: 1 });
  assert.deepEqual((await admin.prompts.lint({ prompt: "List three colours as JSON, one word each.", max_tokens: 50 })).findings, []);
});
