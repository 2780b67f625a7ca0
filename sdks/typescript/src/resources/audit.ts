/**
 * `/admin/v1/audit`: the tamper-evident log of admin changes, by page or as an async
 * iterator, and `/admin/v1/audit/verify`, which re-computes the hash chain (admins only).
 */

import { type RequestOptions, type TimeValue, timeParam } from "../transport.js";
import type { AuditPage, AuditRecord, AuditVerification } from "../types.js";
import { Resource, one } from "./base.js";

export interface AuditQuery {
  tenant?: string;
  /** Key id, JWT subject or `admin-token`. */
  actor?: string;
  /** `key.create`, `tenant.update`, ... */
  action?: string;
  from?: TimeValue;
  to?: TimeValue;
  /** A page's `next_after`. */
  after?: number;
  /** 1-1000 (default 100). */
  limit?: number;
  order?: "oldest" | "newest";
}

export class Audit extends Resource {
  /** One page, oldest first unless `order: "newest"`. */
  list(params: AuditQuery = {}, options?: RequestOptions): Promise<AuditPage> {
    const query = { ...params, from: timeParam(params.from), to: timeParam(params.to) };
    return this.send({ method: "GET", path: "/admin/v1/audit", query, parse: one<AuditPage>() }, options);
  }

  /** `for await (const record of client.audit.iter({...}))`: every matching record, oldest
   * first, fetching pages of `pageSize` as it goes. */
  async *iter(params: Omit<AuditQuery, "limit" | "order"> & { pageSize?: number } = {}, options?: RequestOptions): AsyncGenerator<AuditRecord, void, undefined> {
    const { pageSize = 100, ...filters } = params;
    let after = filters.after;
    for (;;) {
      const page = await this.list({ ...filters, after, limit: pageSize }, options);
      yield* page.data;
      if (page.next_after === null || page.next_after === undefined) return;
      after = page.next_after;
    }
  }

  /** Re-compute the whole hash chain: `intact`, `checked`, `first_broken_seq`. */
  verify(options?: RequestOptions): Promise<AuditVerification> {
    return this.send({ method: "GET", path: "/admin/v1/audit/verify", parse: one<AuditVerification>() }, options);
  }
}
