/** Webhooks against the real gateway: every admin operation, and deliveries the gateway
 * really signed, received on 127.0.0.1 and checked with `verifyWebhook` (before and during a
 * secret rotation); plus the Standard Webhooks specification's published example. */

import assert from "node:assert/strict";
import { type IncomingHttpHeaders, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import { BadRequestError, GatewayClient, NotFoundError, WebhookVerificationError, signWebhook, verifyWebhook } from "../src/index.js";
import { ADMIN_TOKEN, type Running, eventually, startWebhookGateway, unique } from "./harness.js";

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An http server on 127.0.0.1 that records every request and answers 204. */
class Receiver {
  private constructor(
    private readonly server: Server,
    readonly received: Received[],
  ) {}

  static async start(): Promise<Receiver> {
    const received: Received[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    return new Receiver(server, received);
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** The requests whose payload is of event `type`, once there are `n` of them. */
  async waitFor(type: string, n = 1): Promise<Received[]> {
    const matching = (): Received[] => this.received.filter((r) => (JSON.parse(r.body.toString()) as { type: string }).type === type);
    assert.ok(await eventually(async () => matching().length >= n), `the receiver got ${matching().length} of ${n} ${type} deliveries`);
    return matching();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

let gw: Running;
let admin: GatewayClient;
let receiver: Receiver;

before(async () => {
  gw = await startWebhookGateway();
  admin = new GatewayClient({ baseURL: gw.url, apiKey: ADMIN_TOKEN, maxRetries: 0 });
  receiver = await Receiver.start();
});
after(async () => {
  await receiver.close();
  await gw.stop();
});

describe("webhooks", () => {
  test("endpoint life cycle, signed deliveries, rotation and redelivery", async () => {
    const tenant = (await admin.tenants.create({ id: unique("hooks") })).id;
    const endpoint = await admin.webhooks.create({ tenant, url: receiver.url("/hook"), events: ["key.created", "key.revoked"], description: "ops" });
    assert.match(endpoint.secret, /^whsec_/);
    assert.equal(endpoint.tenant, tenant);
    assert.deepEqual(endpoint.events.slice().sort(), ["key.created", "key.revoked"]);
    const shown = await admin.webhooks.get(endpoint.id);
    assert.equal("secret" in shown && shown.secret !== null && shown.secret !== undefined, false, "the secret is shown only once");
    assert.deepEqual((await admin.webhooks.list({ tenant })).map((e) => e.id), [endpoint.id]);

    // A key.created event, delivered and signed: the helper verifies it with the secret.
    const key = await admin.keys.create({ tenant, name: "hooked" });
    const [first] = await receiver.waitFor("key.created");
    assert.ok(first);
    const payload = await verifyWebhook(endpoint.secret, first.headers, first.body);
    assert.equal(payload.type, "key.created");
    assert.equal(payload.data.id, key.id);
    assert.equal(JSON.stringify(payload).includes(key.secret), false, "never the key's secret");
    const tampered = Buffer.from(first.body.toString().replace(key.id, "key_other"));
    await assert.rejects(verifyWebhook(endpoint.secret, first.headers, tampered), WebhookVerificationError);
    const [otherSecret] = [(await admin.webhooks.create({ tenant, url: receiver.url("/other"), events: ["batch.completed"] })).secret];
    await assert.rejects(verifyWebhook(otherSecret, first.headers, first.body), WebhookVerificationError);

    // The delivery log shows it, with its attempt.
    let log = await admin.webhooks.deliveries(endpoint.id);
    assert.ok(await eventually(async () => (log = await admin.webhooks.deliveries(endpoint.id)).some((d) => d.status === "succeeded")));
    const delivered = log.find((d) => d.event_type === "key.created");
    assert.ok(delivered);
    assert.equal(delivered.id, first.headers["webhook-id"], "the log's id is the webhook-id header");
    assert.equal(delivered.log[0]?.status_code, 204);
    assert.equal(delivered.log[0]?.succeeded, true);

    // Only the subscribed events: narrowing to key.revoked drops key.created.
    const updated = await admin.webhooks.update(endpoint.id, { events: ["key.revoked"], description: "revocations" });
    assert.deepEqual(updated.events, ["key.revoked"]);
    assert.equal(updated.description, "revocations");
    assert.throws(() => admin.webhooks.update(endpoint.id, {}), TypeError);

    // Rotation: a new secret; while the old one still signs, each delivery carries both.
    const rotated = await admin.webhooks.rotateSecret(endpoint.id);
    assert.match(rotated.secret, /^whsec_/);
    assert.notEqual(rotated.secret, endpoint.secret);
    assert.ok(rotated.previous_secret_expires_at, "the old secret signs for the overlap");
    await admin.keys.revoke(key.id);
    const [revoked] = await receiver.waitFor("key.revoked");
    assert.ok(revoked);
    assert.equal(String(revoked.headers["webhook-signature"]).split(" ").length, 2, "two signatures during the overlap");
    assert.equal((await verifyWebhook(rotated.secret, revoked.headers, revoked.body)).type, "key.revoked");
    assert.equal((await verifyWebhook(endpoint.secret, revoked.headers, revoked.body)).type, "key.revoked");
    assert.equal((await verifyWebhook([otherSecret, rotated.secret], revoked.headers, revoked.body)).type, "key.revoked");

    // Manual redelivery: the same webhook-id again, pending until it is delivered.
    const again = await admin.webhooks.redeliver(delivered.id);
    assert.equal(again.id, delivered.id);
    assert.equal(again.status, "pending");
    const both = await receiver.waitFor("key.created", 2);
    assert.equal(both[1]?.headers["webhook-id"], delivered.id);
    assert.equal((await verifyWebhook(rotated.secret, both[1]!.headers, both[1]!.body)).type, "key.created");

    // Pages of the log, newest first.
    const pages: string[] = [];
    for await (const d of admin.webhooks.iterDeliveries(endpoint.id, { pageSize: 1 })) pages.push(d.id);
    assert.deepEqual(pages, (await admin.webhooks.deliveries(endpoint.id, { limit: 100 })).map((d) => d.id));
    assert.equal(pages.length, 2);

    // Pausing, bad input, deletion.
    assert.equal((await admin.webhooks.update(endpoint.id, { enabled: false })).enabled, false);
    await assert.rejects(admin.webhooks.deliveries(endpoint.id, { limit: 0 }), (e: unknown) => e instanceof BadRequestError && e.param === "limit");
    await assert.rejects(admin.webhooks.create({ tenant, url: "http://10.0.0.1/hook", events: ["key.created"] }), BadRequestError);
    assert.deepEqual(await admin.webhooks.delete(endpoint.id), { object: "webhook_endpoint", id: endpoint.id, deleted: true });
    await assert.rejects(admin.webhooks.get(endpoint.id), NotFoundError);
    await assert.rejects(admin.webhooks.redeliver("msg_missing"), NotFoundError);
  });
});

describe("webhook signatures", () => {
  // The published example of the Standard Webhooks specification.
  const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const TIMESTAMP = 1614265330;
  const BODY = '{"test": 2432232314}';
  const SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  const headers = (signature = SIGNATURE, timestamp = String(TIMESTAMP)): Record<string, string> => ({
    "Webhook-Id": ID,
    "webhook-timestamp": timestamp,
    "webhook-signature": signature,
  });
  const at = TIMESTAMP * 1000;

  test("the specification's example signs and verifies as published", async () => {
    assert.equal(await signWebhook(SECRET, ID, TIMESTAMP, BODY), SIGNATURE);
    assert.deepEqual(await verifyWebhook(SECRET, headers(), BODY, { now: at }), { test: 2432232314 });
    assert.deepEqual(await verifyWebhook(SECRET, new Headers(headers()), new TextEncoder().encode(BODY), { now: at }), { test: 2432232314 });
    assert.deepEqual(await verifyWebhook(SECRET.slice("whsec_".length), headers(), BODY, { now: at }), { test: 2432232314 }, "the prefix is optional");
  });

  test("several signatures: any valid one verifies; unknown versions are ignored", async () => {
    const other = await signWebhook("whsec_" + btoa("another-secret-of-24-bytes!!"), ID, TIMESTAMP, BODY);
    assert.ok(await verifyWebhook(SECRET, headers(`v2,abc ${other} ${SIGNATURE}`), BODY, { now: at }));
    await assert.rejects(verifyWebhook(SECRET, headers(`${other} v2,${SIGNATURE.slice(3)}`), BODY, { now: at }), WebhookVerificationError);
  });

  test("tampering, staleness and malformed headers are refused", async () => {
    const refused = async (h: Record<string, string>, body = BODY, now = at): Promise<void> => {
      await assert.rejects(verifyWebhook(SECRET, h, body, { now }), WebhookVerificationError);
    };
    await refused(headers(), '{"test": 2432232315}');
    await refused({ ...headers(), "Webhook-Id": "msg_other" });
    await refused(headers(SIGNATURE, String(TIMESTAMP + 1)));
    await refused(headers(), BODY, at + 301_000);
    await refused(headers(), BODY, at - 301_000);
    assert.ok(await verifyWebhook(SECRET, headers(), BODY, { now: at + 299_000 }));
    assert.ok(await verifyWebhook(SECRET, headers(), BODY, { now: at + 3_600_000, toleranceSeconds: 3600 }));
    await refused(headers(SIGNATURE, "16142653x0"));
    await refused(headers("v1,not base64!"));
    await refused(headers("v1"));
    await refused({ "webhook-id": ID, "webhook-timestamp": String(TIMESTAMP) });
    await assert.rejects(verifyWebhook("whsec_not base64!", headers(), BODY, { now: at }), TypeError);
    await assert.rejects(verifyWebhook([], headers(), BODY, { now: at }), TypeError);
  });
});
