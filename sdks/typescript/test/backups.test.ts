/** Backups (`/admin/v1/backups`) against the real gateway: a backup taken through the SDK is an
 * archive in the gateway's `[backup] dir`, listed newest first, read back with its manifest,
 * audited; only admins may take one; a gateway without `[backup]` says so. */

import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { BadRequestError, GatewayClient, NotFoundError, PermissionDeniedError } from "../src/index.js";
import { ADMIN_TOKEN, type BackupRunning, type Running, startBackupGateway, startGateway, unique } from "./harness.js";

let gw: BackupRunning;
let plain: Running;
const as = (url: string, apiKey: string): GatewayClient => new GatewayClient({ baseURL: url, apiKey, maxRetries: 0 });

before(async () => {
  gw = await startBackupGateway();
  plain = await startGateway();
});
after(async () => {
  await gw.stop();
  await plain.stop();
});

const tenantRows = (backup: { manifest: { tables: { name: string; rows: number }[] } | null }): number =>
  backup.manifest?.tables.find((t) => t.name === "tenants")?.rows ?? -1;

test("backups: create, list newest first, get, audit", async () => {
  const admin = as(gw.url, ADMIN_TOKEN);
  const tenant = (await admin.tenants.create({ id: unique("backup") })).id;
  const first = await admin.backups.create();
  assert.equal(first.error, null);
  assert.ok(first.size_bytes > 0);
  assert.equal(first.manifest?.id, first.id);
  assert.equal(first.manifest?.backend, "sqlite");
  assert.ok(tenantRows(first) >= 1, JSON.stringify(first.manifest));
  assert.equal(statSync(join(gw.backupDir, `${first.id}.gwbackup`)).size, first.size_bytes);
  assert.deepEqual(await admin.backups.get(first.id), first);

  await admin.tenants.create({ id: unique("backup") });
  const second = await admin.backups.create();
  assert.notEqual(second.id, first.id);
  assert.equal(tenantRows(second), tenantRows(first) + 1);
  const ids = (await admin.backups.list()).map((b) => b.id);
  assert.ok(ids.indexOf(second.id) >= 0 && ids.indexOf(second.id) < ids.indexOf(first.id), `newest first: ${ids}`);

  await assert.rejects(admin.backups.get("gateway-19700101T000000000Z"), NotFoundError);
  assert.throws(() => admin.backups.get(".."), TypeError);
  const audited: (string | null)[] = [];
  for await (const r of admin.audit.iter({ action: "backup.create" })) if (r.outcome === "success") audited.push(r.target);
  assert.ok(audited.includes(first.id) && audited.includes(second.id), JSON.stringify(audited));

  const key = await admin.keys.create({ tenant, name: "not-an-admin" });
  await assert.rejects(as(gw.url, key.secret).backups.create(), PermissionDeniedError);
  await assert.rejects(as(gw.url, key.secret).backups.list(), PermissionDeniedError);
});

test("backups: a gateway without [backup] says so", async () => {
  const err = await as(plain.url, ADMIN_TOKEN).backups.create().catch((e: unknown) => e);
  assert.ok(err instanceof BadRequestError, String(err));
  assert.match(err.message, /not configured/);
});
