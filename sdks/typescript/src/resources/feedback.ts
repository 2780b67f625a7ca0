/**
 * Feedback on calls: `POST /v1/feedback` (a caller rates one of its own calls, with a gateway
 * API key) and, for operators, `GET /admin/v1/feedback` (list) and
 * `GET /admin/v1/feedback/summary` (aggregates per model, deployment and task type).
 */

import { type RequestOptions, type TimeValue, timeParam } from "../transport.js";
import { Resource, many, one } from "./base.js";

/** A number from 0 to 1, or a thumb: `up` (1) / `down` (0). */
export type FeedbackScore = number | "up" | "down";

export interface FeedbackGive {
  tags?: string[];
  comment?: string;
}

/** One stored feedback, with what the rated call's usage record says about it. */
export interface FeedbackRecord {
  object: "feedback";
  tenant: string;
  request_id: string;
  subject: string;
  created_at: string;
  score: number;
  tags: string[];
  comment: string | null;
  model: string;
  provider: string | null;
  upstream_model: string | null;
  task: string | null;
  /** The heuristic quality score of the rated answer. */
  quality: number | null;
  route_reason: string | null;
}

export interface FeedbackQuery {
  tenant?: string;
  model?: string;
  provider?: string;
  task?: string;
  from?: TimeValue;
  to?: TimeValue;
}

export type FeedbackDimension = "tenant" | "model" | "deployment" | "task";

export interface FeedbackSummaryRow {
  tenant?: string;
  model?: string;
  provider?: string;
  upstream_model?: string;
  task?: string;
  count: number;
  avg_score: number;
  positive: number;
  negative: number;
  avg_quality: number | null;
}

export interface FeedbackSummary {
  object: "list";
  data: FeedbackSummaryRow[];
  group_by: string[];
}

function filters(q: FeedbackQuery): Record<string, string | undefined> {
  return { tenant: q.tenant, model: q.model, provider: q.provider, task: q.task, from: timeParam(q.from), to: timeParam(q.to) };
}

export class Feedback extends Resource {
  /** Rate the caller's call `requestId` (its `x-request-id`); another tenant's is a 404. */
  give(requestId: string, score: FeedbackScore, params: FeedbackGive = {}, options?: RequestOptions): Promise<FeedbackRecord> {
    if (typeof score !== "number" && score !== "up" && score !== "down") throw new TypeError("score is a number from 0 to 1, 'up' or 'down'");
    const body: Record<string, unknown> = { request_id: requestId, score };
    if (params.tags !== undefined) body.tags = params.tags;
    if (params.comment !== undefined) body.comment = params.comment;
    // Giving it again replaces it: safe to retry.
    return this.send({ method: "POST", path: "/v1/feedback", body, parse: one<FeedbackRecord>(), idempotent: true }, options);
  }

  /** Feedback given, newest first (needs `read_usage`). */
  list(params: FeedbackQuery & { limit?: number } = {}, options?: RequestOptions): Promise<FeedbackRecord[]> {
    const query = { ...filters(params), limit: params.limit === undefined ? undefined : String(params.limit) };
    return this.send({ method: "GET", path: "/admin/v1/feedback", query, parse: many<FeedbackRecord>() }, options);
  }

  /** Aggregates per `group_by` (default model,task). */
  summary(params: FeedbackQuery & { group_by?: FeedbackDimension[] | string } = {}, options?: RequestOptions): Promise<FeedbackSummary> {
    const groupBy = Array.isArray(params.group_by) ? params.group_by.join(",") : params.group_by;
    const query = { ...filters(params), group_by: groupBy };
    return this.send({ method: "GET", path: "/admin/v1/feedback/summary", query, parse: one<FeedbackSummary>() }, options);
  }
}
