/** `/admin/v1/cache/invalidate`: drop cached responses of a tenant, a model, or all
 * (gateway-wide configuration: admins only; other instances are told through Redis). */

import type { RequestOptions } from "../transport.js";
import type { CacheInvalidation } from "../types.js";
import { Resource, one } from "./base.js";

export class Cache extends Resource {
  /** Drop the cached responses of `tenant`, of `model`, or (neither given) all. */
  invalidate(params: { tenant?: string; model?: string } = {}, options?: RequestOptions): Promise<CacheInvalidation> {
    if (params.tenant !== undefined && params.model !== undefined) {
      throw new TypeError("invalidate one tenant or one model, not both");
    }
    const scope =
      params.tenant !== undefined
        ? { scope: "tenant", tenant: params.tenant }
        : params.model !== undefined
          ? { scope: "model", model: params.model }
          : { scope: "all" };
    // Dropping what is already gone is harmless: safe to retry.
    return this.send(
      { method: "POST", path: "/admin/v1/cache/invalidate", body: scope, parse: one<CacheInvalidation>(), idempotent: true },
      options,
    );
  }
}
