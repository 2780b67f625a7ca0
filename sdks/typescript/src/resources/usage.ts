/**
 * `/admin/v1/usage`: usage and cost aggregated by tenant, key, model and/or day. The gateway
 * answers a whole report at once (it aggregates; there are no pages); `csv` writes it as CSV.
 */

import { type RequestOptions, type TimeValue, timeParam } from "../transport.js";
import { type UsageReport, usageCsv } from "../types.js";
import { Resource, one } from "./base.js";

export type UsageDimension = "tenant" | "key" | "model" | "day" | "batch" | "task";

export interface UsageQuery {
  tenant?: string;
  /** A key id or JWT subject. */
  key?: string;
  model?: string;
  /** Inclusive start. */
  from?: TimeValue;
  /** Exclusive end; a `YYYY-MM-DD` date includes that whole day. */
  to?: TimeValue;
  group_by?: UsageDimension[] | string;
}

export class Usage extends Resource {
  report(params: UsageQuery = {}, options?: RequestOptions): Promise<UsageReport> {
    const groupBy = Array.isArray(params.group_by) ? params.group_by.join(",") : params.group_by;
    const query = {
      tenant: params.tenant,
      key: params.key,
      model: params.model,
      from: timeParam(params.from),
      to: timeParam(params.to),
      group_by: groupBy,
    };
    return this.send({ method: "GET", path: "/admin/v1/usage", query, parse: one<UsageReport>() }, options);
  }

  /** The same report as CSV: the grouped fields, then the totals. */
  async csv(params: UsageQuery = {}, options?: RequestOptions): Promise<string> {
    return usageCsv(await this.report(params, options));
  }
}
