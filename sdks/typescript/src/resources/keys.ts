/**
 * `/admin/v1/keys`: create (the secret is shown once), list, get, update, rotate, revoke,
 * resume (after a suspension by anomaly detection).
 * A key of a tenant the caller may not see answers 404 exactly like a missing one; only an
 * admin may grant the `admin` role or change a key that holds it.
 */

import { type RequestOptions, type TimeValue, body, segment, timeParam } from "../transport.js";
import type { ApiKey, CreatedKey, KeyRole, Limits } from "../types.js";
import { Resource, many, one } from "./base.js";

const PATH = "/admin/v1/keys";

export interface KeyCreate {
  tenant: string;
  name: string;
  /** Default `developer`. */
  roles?: KeyRole[];
  allowed_models?: string[];
  limits?: Limits;
  /** Give `expires_at` or `expires_in_days`, not both. */
  expires_at?: TimeValue;
  expires_in_days?: number;
  metadata?: Record<string, unknown>;
}

/** The fields to change; `null` clears `allowed_models` or `expires_at`. */
export interface KeyUpdate {
  name?: string;
  roles?: KeyRole[];
  allowed_models?: string[] | null;
  limits?: Limits;
  expires_at?: TimeValue | null;
  metadata?: Record<string, unknown>;
  enabled?: boolean;
}

const path = (id: string, action = ""): string => `${PATH}/${segment(id, "key id")}${action}`;

export class Keys extends Resource {
  /** Issue a key. The returned `secret` is shown this once: store it now. */
  create(params: KeyCreate, options?: RequestOptions): Promise<CreatedKey> {
    const fields = body({ ...params, expires_at: timeParam(params.expires_at) });
    // Not idempotent: a retried create after the gateway acted would mint a second key.
    return this.send({ method: "POST", path: PATH, body: fields, parse: one<CreatedKey>() }, options);
  }

  /** Keys, oldest first (an admin sees every tenant's without `tenant`). */
  list(params: { tenant?: string } = {}, options?: RequestOptions): Promise<ApiKey[]> {
    return this.send({ method: "GET", path: PATH, query: { tenant: params.tenant }, parse: many<ApiKey>() }, options);
  }

  get(id: string, options?: RequestOptions): Promise<ApiKey> {
    return this.send({ method: "GET", path: path(id), parse: one<ApiKey>() }, options);
  }

  update(id: string, changes: KeyUpdate, options?: RequestOptions): Promise<ApiKey> {
    const expires = changes.expires_at === null ? null : timeParam(changes.expires_at);
    const fields = body({ ...changes, expires_at: expires });
    if (Object.keys(fields).length === 0) throw new TypeError("update needs at least one field to change");
    return this.send({ method: "PATCH", path: path(id), body: fields, parse: one<ApiKey>() }, options);
  }

  /** Replace the key's limits. */
  setLimits(id: string, limits: Limits, options?: RequestOptions): Promise<ApiKey> {
    return this.update(id, { limits }, options);
  }

  /** Refuse the key until it is enabled again. */
  disable(id: string, options?: RequestOptions): Promise<ApiKey> {
    return this.update(id, { enabled: false }, options);
  }

  enable(id: string, options?: RequestOptions): Promise<ApiKey> {
    return this.update(id, { enabled: true }, options);
  }

  /** A new key with the same tenant, name and settings; the old one is revoked.
   * The new `secret` is shown this once; `replaces` names the old key. */
  rotate(id: string, options?: RequestOptions): Promise<CreatedKey> {
    return this.send({ method: "POST", path: path(id, "/rotate"), body: {}, parse: one<CreatedKey>() }, options);
  }

  /** Revoke for good (idempotent, so safe to retry). */
  revoke(id: string, options?: RequestOptions): Promise<ApiKey> {
    return this.send({ method: "POST", path: path(id, "/revoke"), body: {}, parse: one<ApiKey>(), idempotent: true }, options);
  }

  /** Enable the key again after anomaly detection suspended it (or it was disabled); a
   * revoked key stays revoked (400). Idempotent. */
  resume(id: string, options?: RequestOptions): Promise<ApiKey> {
    return this.send({ method: "POST", path: path(id, "/resume"), body: {}, parse: one<ApiKey>(), idempotent: true }, options);
  }
}
