/** `/admin/v1/anomalies`: the anomalies behavioural anomaly detection raised on the instance
 * that answers (the last 512, newest first; docs/security.md). An admin sees every tenant's and
 * the gateway-wide ones (client networks, failed authentications); anyone else with
 * `read_keys` sees their own tenant's. A suspended key is resumed with `keys.resume`. */

import type { RequestOptions } from "../transport.js";
import { Resource, many } from "./base.js";

/** One scored signal, over the window that scored highest. */
export interface AnomalySignal {
  signal: string;
  score: number;
  observed: number;
  expected: number;
}

/** An entity whose use departed from its baseline. */
export interface Anomaly {
  object: "anomaly";
  detected_at: string;
  kind: "key" | "tenant" | "network" | "gateway";
  id: string;
  tenant: string | null;
  /** `tenant`: alerted to the tenant's webhooks; `network`: no tenant (failed
   * authentications per client network or gateway-wide), alerted to the operator's. */
  scope: "tenant" | "network";
  score: number;
  action: "record" | "alert" | "throttle" | "suspend";
  signals: AnomalySignal[];
}

export interface AnomalyQuery {
  tenant?: string;
  /** 1 to 512 (default 100). */
  limit?: number;
}

export class Anomalies extends Resource {
  /** Recent anomalies, newest first. */
  list(params: AnomalyQuery = {}, options?: RequestOptions): Promise<Anomaly[]> {
    const query = { tenant: params.tenant, limit: params.limit };
    return this.send({ method: "GET", path: "/admin/v1/anomalies", query, parse: many<Anomaly>() }, options);
  }
}
