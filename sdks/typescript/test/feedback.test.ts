/** Feedback on calls against the real gateway: a caller rates its own call, another tenant's
 * request id is not found, bad fields are refused, and operators list and summarise it. */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { BadRequestError, GatewayClient, NotFoundError } from "../src/index.js";
import { ADMIN_TOKEN, type Running, eventually, startGateway, unique } from "./harness.js";

let gw: Running;
let admin: GatewayClient;
const as = (apiKey: string): GatewayClient => new GatewayClient({ baseURL: gw.url, apiKey, maxRetries: 0 });

before(async () => {
  gw = await startGateway();
  admin = as(ADMIN_TOKEN);
});
after(() => gw.stop());

test("feedback: give, scope, validation, list and summary", async () => {
  const tenant = (await admin.tenants.create({ id: unique("fb") })).id;
  const other = (await admin.tenants.create({ id: unique("fb-other") })).id;
  const key = await admin.keys.create({ tenant, name: "rater" });
  const stranger = await admin.keys.create({ tenant: other, name: "stranger" });
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key.secret}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "demo", messages: [{ role: "user", content: "Tell me something nice about otters." }] }),
  });
  assert.equal(r.status, 200);
  await r.text();
  const requestId = r.headers.get("x-request-id");
  assert.ok(requestId);
  const app = as(key.secret);
  const rated = async (): Promise<boolean> => {
    try {
      await app.feedback.give(requestId, "up", { tags: ["nice"] });
      return true;
    } catch (e) {
      if (e instanceof NotFoundError) return false; // the usage record is written shortly after
      throw e;
    }
  };
  assert.ok(await eventually(rated), "the call's usage record never showed up");
  const record = await app.feedback.give(requestId, 0.25, { tags: ["meh"], comment: "so-so" });
  assert.equal(record.object, "feedback");
  assert.equal(record.score, 0.25);
  assert.equal(record.model, "demo");
  assert.ok(record.quality !== null && record.quality >= 0 && record.quality <= 1);
  const bad = await app.feedback.give(requestId, 2).catch((e: unknown) => e);
  assert.ok(bad instanceof BadRequestError, String(bad));
  assert.equal(bad.param, "score");
  await assert.rejects(as(stranger.secret).feedback.give(requestId, "down"), NotFoundError);
  await assert.rejects(app.feedback.give("no-such-request", "down"), NotFoundError);
  assert.throws(() => app.feedback.give(requestId, "meh" as "up"), TypeError);

  const listed = await admin.feedback.list({ tenant });
  assert.equal(listed.length, 1);
  assert.equal(listed[0]?.comment, "so-so");
  const summary = await admin.feedback.summary({ tenant, group_by: ["model", "deployment"] });
  assert.deepEqual(summary.group_by, ["model", "deployment"]);
  assert.equal(summary.data.length, 1);
  assert.equal(summary.data[0]?.count, 1);
  assert.equal(summary.data[0]?.negative, 1);
  const usage = await admin.usage.report({ tenant, group_by: ["model"] });
  assert.ok((usage.data[0]?.scored_requests ?? 0) >= 1);
});
