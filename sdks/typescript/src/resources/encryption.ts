/** Key management of the encryption of stored content (docs/security.md): a tenant's data-key
 * status (`GET /admin/v1/tenants/{id}/encryption`), rotating its data key (`.../rotate`),
 * re-encrypting its stored content with the current key (`.../reencrypt`), re-wrapping every
 * data key under the current KEK after a KEK change (`POST /admin/v1/encryption/rewrap`), and
 * opening sealed content-log fields (`.../open`, admins only, audited). Status needs
 * `read_keys` on the tenant, rotate and re-encrypt `manage_keys` (a tenant admin may, for its
 * own tenant); rewrap and open are for admins. */

import { type RequestOptions, segment } from "../transport.js";
import { Resource, many, one } from "./base.js";

/** One data-key version and the KEK wrapping it. */
export interface KeyVersion {
  version: number;
  kek_id: string;
}

/** A tenant's data keys (never key material). */
export interface TenantKeys {
  object: "tenant.keys";
  tenant: string;
  /** The version new writes use (`null` until the tenant's first sealed write). */
  current: number | null;
  versions: KeyVersion[];
  /** Versions up to this one were destroyed (crypto-shredding). */
  shredded_up_to: number | null;
  /** The KEK new data keys are wrapped by. */
  kek_id: string;
  /** Set by `reencrypt`. */
  reencrypted?: { resealed: number; current: number };
}

/** What `rewrap` did. */
export interface Rewrap {
  object: "kek.rewrap";
  kek_id: string;
  rewrapped: number;
  already_current: number;
}

/** One opened value: `plaintext` when `opened`. */
export interface OpenedValue {
  status: "opened" | "destroyed" | "invalid";
  plaintext?: string;
}

const tenantPath = (tenant: string, action = ""): string => `/admin/v1/tenants/${segment(tenant, "tenant id")}/encryption${action}`;

export class Encryption extends Resource {
  /** The tenant's data-key versions and the KEK wrapping each. */
  status(tenant: string, options?: RequestOptions): Promise<TenantKeys> {
    return this.send({ method: "GET", path: tenantPath(tenant), parse: one<TenantKeys>() }, options);
  }

  /** A new data-key version for the tenant's new writes; older content stays readable. */
  rotate(tenant: string, options?: RequestOptions): Promise<TenantKeys> {
    return this.send({ method: "POST", path: tenantPath(tenant, "/rotate"), parse: one<TenantKeys>() }, options);
  }

  /** Seal the tenant's stored content again with its current key (counts in `reencrypted`). */
  reencrypt(tenant: string, options?: RequestOptions): Promise<TenantKeys> {
    return this.send({ method: "POST", path: tenantPath(tenant, "/reencrypt"), parse: one<TenantKeys>(), idempotent: true }, options);
  }

  /** Re-wrap every data key under the current KEK (after `[encryption] kek` changed). */
  rewrap(options?: RequestOptions): Promise<Rewrap> {
    return this.send({ method: "POST", path: "/admin/v1/encryption/rewrap", parse: one<Rewrap>(), idempotent: true }, options);
  }

  /** Open sealed content-log fields (`gwe1:...`, at most 100), one result per value, in order. */
  open(tenant: string, values: string[], options?: RequestOptions): Promise<OpenedValue[]> {
    if (!Array.isArray(values)) throw new TypeError("values is an array of sealed strings");
    return this.send(
      { method: "POST", path: tenantPath(tenant, "/open"), body: { values }, parse: many<OpenedValue>(), idempotent: true },
      options,
    );
  }
}
