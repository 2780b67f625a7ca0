/** Key management (`/admin/v1/tenants/{id}/encryption`, `/admin/v1/encryption/rewrap`) against
 * the real gateway: status, rotation to a new version, re-encryption and re-wrap counts,
 * opening values (one that is not sealed is `invalid`); a tenant admin manages its own tenant
 * only; a gateway without `[encryption]` says so. */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { BadRequestError, GatewayClient, PermissionDeniedError } from "../src/index.js";
import { ADMIN_TOKEN, type Running, startEncryptionGateway, startGateway, unique } from "./harness.js";

let gw: Running;
let plain: Running;
const as = (url: string, apiKey: string): GatewayClient => new GatewayClient({ baseURL: url, apiKey, maxRetries: 0 });

before(async () => {
  gw = await startEncryptionGateway();
  plain = await startGateway();
});
after(async () => {
  await gw.stop();
  await plain.stop();
});

test("encryption: status, rotate, reencrypt, rewrap, open", async () => {
  const admin = as(gw.url, ADMIN_TOKEN);
  const tenant = (await admin.tenants.create({ id: unique("enc") })).id;
  const status = await admin.encryption.status(tenant);
  assert.equal(status.object, "tenant.keys");
  assert.equal(status.current, null);
  assert.deepEqual(status.versions, []);
  assert.equal(status.kek_id, "sdk-kek");
  assert.equal((await admin.encryption.rotate(tenant)).current, 1);
  const second = await admin.encryption.rotate(tenant);
  assert.deepEqual(second.versions, [
    { version: 1, kek_id: "sdk-kek" },
    { version: 2, kek_id: "sdk-kek" },
  ]);
  assert.deepEqual((await admin.encryption.reencrypt(tenant)).reencrypted, { resealed: 0, current: 0 });
  const wrap = await admin.encryption.rewrap();
  assert.equal(wrap.kek_id, "sdk-kek");
  assert.equal(wrap.rewrapped, 0);
  assert.ok(wrap.already_current >= 2);
  const opened = await admin.encryption.open(tenant, ["not sealed", "gwe1:AAAA"]);
  assert.deepEqual(
    opened.map((o) => o.status),
    ["invalid", "invalid"],
  );
  await assert.rejects(admin.encryption.open(tenant, []), BadRequestError);

  const other = (await admin.tenants.create({ id: unique("enc") })).id;
  const boss = await admin.keys.create({ tenant, name: "tenant-admin", roles: ["tenant_admin"] });
  const own = as(gw.url, boss.secret);
  assert.equal((await own.encryption.rotate(tenant)).current, 3);
  await assert.rejects(own.encryption.rotate(other), PermissionDeniedError);
  await assert.rejects(own.encryption.rewrap(), PermissionDeniedError);
  await assert.rejects(own.encryption.open(tenant, ["gwe1:AAAA"]), PermissionDeniedError);
  const developer = await admin.keys.create({ tenant, name: "developer" });
  await assert.rejects(as(gw.url, developer.secret).encryption.status(tenant), PermissionDeniedError);
});

test("encryption: a gateway without [encryption] says so", async () => {
  const err = await as(plain.url, ADMIN_TOKEN)
    .encryption.status("acme")
    .catch((e: unknown) => e);
  assert.ok(err instanceof BadRequestError);
  assert.match(err.message, /not configured/);
});
