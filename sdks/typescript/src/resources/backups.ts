/** `/admin/v1/backups`: encrypted backups of the gateway's store (docs/operations.md): take one
 * now into the gateway's `[backup] dir`, list the archives there with their manifests, or read
 * one. Admins only. Verifying and restoring an archive are offline operations
 * (`gatewayctl backup verify|restore`), not API calls. */

import { type RequestOptions, segment } from "../transport.js";
import { Resource, many, one } from "./base.js";

/** One table of a backup and its rows. */
export interface BackupTable {
  name: string;
  rows: number;
}

/** What an archive holds (authenticated by the backup key). */
export interface BackupManifest {
  format: number;
  id: string;
  gateway_version: string;
  backend: string;
  schema_version: number;
  created_at_ms: number;
  duration_ms: number;
  tables: BackupTable[];
  audit_head: { seq: number; hash: string } | null;
  payload_bytes: number;
  payload_sha256: string;
}

/** An archive in the gateway's backup directory. */
export interface Backup {
  id: string;
  size_bytes: number;
  manifest: BackupManifest | null;
  error: string | null;
}

const PATH = "/admin/v1/backups";

export class Backups extends Resource {
  /** Take a backup now (a consistent snapshot of every table, encrypted). */
  create(options?: RequestOptions): Promise<Backup> {
    return this.send({ method: "POST", path: PATH, parse: one<Backup>() }, options);
  }

  /** The archives in the gateway's backup directory, newest first. */
  list(options?: RequestOptions): Promise<Backup[]> {
    return this.send({ method: "GET", path: PATH, parse: many<Backup>() }, options);
  }

  /** One archive and its manifest. */
  get(id: string, options?: RequestOptions): Promise<Backup> {
    return this.send({ method: "GET", path: `${PATH}/${segment(id, "backup id")}`, parse: one<Backup>() }, options);
  }
}
