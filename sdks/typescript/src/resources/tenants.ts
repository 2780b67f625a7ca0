/**
 * `/admin/v1/tenants`: create, list, get, update (enable, disable, limits), delete.
 * Creating, changing and deleting tenants is for admins; a tenant admin reads its own.
 */

import { type RequestOptions, body, segment } from "../transport.js";
import type { Deleted, Limits, Tenant } from "../types.js";
import { Resource, many, one } from "./base.js";

const PATH = "/admin/v1/tenants";

export interface TenantCreate {
  /** 1-64 letters, digits, `-`, `_` or `.`. */
  id: string;
  name?: string;
  enabled?: boolean;
  allowed_models?: string[];
  allowed_regions?: string[];
  limits?: Limits;
}

/** The fields to change; `null` clears a list; `limits` replaces all limits. */
export interface TenantUpdate {
  name?: string;
  enabled?: boolean;
  allowed_models?: string[] | null;
  allowed_regions?: string[] | null;
  limits?: Limits;
}

export class Tenants extends Resource {
  /** Create a tenant; a taken id throws {@link ConflictError}. */
  create(params: TenantCreate, options?: RequestOptions): Promise<Tenant> {
    return this.send({ method: "POST", path: PATH, body: body({ ...params }), parse: one<Tenant>() }, options);
  }

  /** Every tenant (an admin), or the caller's own. */
  list(options?: RequestOptions): Promise<Tenant[]> {
    return this.send({ method: "GET", path: PATH, parse: many<Tenant>() }, options);
  }

  get(id: string, options?: RequestOptions): Promise<Tenant> {
    return this.send({ method: "GET", path: `${PATH}/${segment(id, "tenant id")}`, parse: one<Tenant>() }, options);
  }

  update(id: string, changes: TenantUpdate, options?: RequestOptions): Promise<Tenant> {
    const fields = body({ ...changes });
    if (Object.keys(fields).length === 0) throw new TypeError("update needs at least one field to change");
    return this.send({ method: "PATCH", path: `${PATH}/${segment(id, "tenant id")}`, body: fields, parse: one<Tenant>() }, options);
  }

  /** Replace the tenant's limits (rates, tokens, concurrency, budgets). */
  setLimits(id: string, limits: Limits, options?: RequestOptions): Promise<Tenant> {
    return this.update(id, { limits }, options);
  }

  /** Refuse every key of the tenant (and JWTs naming it) at once. */
  disable(id: string, options?: RequestOptions): Promise<Tenant> {
    return this.update(id, { enabled: false }, options);
  }

  enable(id: string, options?: RequestOptions): Promise<Tenant> {
    return this.update(id, { enabled: true }, options);
  }

  /** Delete the tenant and its keys; its usage and audit records are kept. */
  delete(id: string, options?: RequestOptions): Promise<Deleted> {
    return this.send({ method: "DELETE", path: `${PATH}/${segment(id, "tenant id")}`, parse: one<Deleted>() }, options);
  }
}
