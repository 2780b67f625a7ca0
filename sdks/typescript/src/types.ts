/**
 * The gateway's records, typed as they are on the wire (snake_case, times as RFC 3339
 * strings in UTC, `null` for "none"). Fields a newer gateway adds are present at run time
 * before they are named here.
 */

import type { ResponseMetadata } from "./metadata.js";

/** The roles a key can hold. */
export type KeyRole = "admin" | "tenant_admin" | "developer" | "viewer" | "auditor";

/** Rate, token, concurrency and spend limits of a tenant or key; absent = no limit here. */
export interface Limits {
  rps?: number;
  rpm?: number;
  rpd?: number;
  tpm?: number;
  tpd?: number;
  max_concurrency?: number;
  budget_usd_daily?: number;
  budget_usd_monthly?: number;
}

export interface Tenant {
  object: "tenant";
  id: string;
  name: string;
  enabled: boolean;
  allowed_models: string[] | null;
  allowed_regions: string[] | null;
  limits: Limits;
  created_at: string;
}

/** An API key as the gateway shows it: never its secret or hash. */
export interface ApiKey {
  object: "api_key";
  id: string;
  tenant: string;
  name: string;
  /** The first characters of the secret, to recognise a key. */
  prefix: string;
  status: "active" | "disabled" | "expired" | "revoked";
  roles: KeyRole[];
  allowed_models: string[] | null;
  limits: Limits;
  expires_at: string | null;
  metadata: Record<string, unknown>;
  enabled: boolean;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** A key just created or rotated: the only time its `secret` is shown. Store it now. */
export interface CreatedKey extends ApiKey {
  secret: string;
  /** For a rotation: the id of the key it replaced (now revoked). */
  replaces?: string;
}

export interface Deleted {
  object: string;
  id: string;
  deleted: boolean;
}

/** One group of a usage report: the grouped fields, then the totals. */
export interface UsageRow {
  tenant?: string;
  key?: string;
  model?: string;
  /** `YYYY-MM-DD` (UTC) when grouped by day. */
  day?: string;
  requests: number;
  errors: number;
  cache_hits: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  unpriced_requests: number;
  /** Guardrail findings (flags, redactions, blocks) over the calls' inputs and outputs. */
  guardrail_findings?: number;
  /** The classifier's task type, when grouped by task. */
  task?: string;
  /** Calls whose answer got a heuristic quality score. */
  scored_requests?: number;
  /** Their mean quality score (0..1). */
  avg_quality?: number;
  /** Calls the LLM judge scored (a sampled share). */
  judged_requests?: number;
  /** Their mean judge score (0..1). */
  avg_judge_score?: number;
}

export interface UsageReport {
  object: "list";
  data: UsageRow[];
  group_by: string[];
}

export interface AuditRecord {
  seq: number;
  at: string;
  tenant: string | null;
  /** Key id, JWT subject or `admin-token`. */
  actor: string;
  /** `tenant.create`, `key.rotate`, `cache.invalidate`, ... */
  action: string;
  target: string | null;
  outcome: "success" | "denied" | "failure";
  ip: string | null;
  details: Record<string, unknown>;
  prev_hash: string | null;
  hash: string;
}

/** One page of audit records; `next_after` is the `after` of the next page, if any. */
export interface AuditPage {
  object: "list";
  data: AuditRecord[];
  next_after: number | null;
}

export interface AuditVerification {
  checked: number;
  intact: boolean;
  first_broken_seq: number | null;
}

/** One deployment of a public model as the router sees it now. */
export interface Deployment {
  model: string;
  provider: string;
  upstream_model: string;
  region: string | null;
  priority: number;
  weight: number;
  circuit: "closed" | "open" | "half_open";
  consecutive_failures: number;
  /** Milliseconds until an open circuit lets a probe through. */
  retry_in_ms?: number;
  ewma_latency_ms: number | null;
  in_flight: number;
  concurrency_limit: number | null;
  requests: number;
  failures: number;
}

export interface GuardrailFinding {
  guardrail: string;
  category: string;
  rule: string;
  score: number;
  /** Byte offsets of the finding in the UTF-8 text. */
  start: number;
  end: number;
  action: string;
}

/** What the tenant's guardrails decide about a text. */
export interface GuardrailVerdict {
  flagged: boolean;
  action: "allow" | "flag" | "redact" | "block";
  findings: GuardrailFinding[];
  /** Set only when the action is `redact`. */
  redacted_text: string | null;
  metadata: ResponseMetadata;
}

export interface CacheInvalidation {
  object: "cache.invalidation";
  scope: { scope: "all" | "tenant" | "model"; tenant?: string; model?: string };
  removed: number;
}

/** The answer of the simple `POST /query` API. */
export interface QueryResult {
  response: string;
  provider: string;
  model: string;
  latency_ms: number;
  cascade_path: string[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; [k: string]: unknown };
  cost_estimate_usd: number | null;
  /** The gateway's headers, with `costUsd` from `cost_estimate_usd`. */
  metadata: ResponseMetadata;
}

/** A model the caller may use, by its public name at the gateway. */
export interface Model {
  id: string;
  object: "model";
  owned_by?: string;
  created?: number;
}

const USAGE_TOTALS = [
  "requests",
  "errors",
  "cache_hits",
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "cost_usd",
  "unpriced_requests",
  "guardrail_findings",
] as const;
const USAGE_DIMENSIONS = new Set(["tenant", "key", "model", "day"]);

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A usage report as CSV with a header line: the grouped fields, then the totals. */
export function usageCsv(report: UsageReport): string {
  const dims = [...new Set(report.group_by.map((d) => (d === "subject" ? "key" : d)).filter((d) => USAGE_DIMENSIONS.has(d)))];
  const columns = [...dims, ...USAGE_TOTALS];
  const lines = [columns.join(",")];
  for (const row of report.data) {
    const record = row as unknown as Record<string, unknown>;
    lines.push(columns.map((c) => csvCell(record[c])).join(","));
  }
  return `${lines.join("\n")}\n`;
}

/** A webhook endpoint of a tenant (docs/webhooks.md). */
export interface WebhookEndpoint {
  object: "webhook_endpoint";
  id: string;
  tenant: string;
  url: string;
  description: string;
  /** The event types delivered (`key.created`, `limit.exceeded`, `batch.completed`, ...). */
  events: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
  /** Until when the secret before the last rotation still signs, if it does. */
  previous_secret_expires_at?: string | null;
}

/** An endpoint just created or with a rotated secret: the only time `secret` is shown. */
export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  /** `whsec_...`: give it to {@link verifyWebhook} on the receiving side. */
  secret: string;
}

/** One attempt of a delivery. */
export interface WebhookAttempt {
  attempt: number;
  at: string;
  /** The receiver's status, if it answered. */
  status_code?: number | null;
  latency_ms: number;
  succeeded: boolean;
  error?: string | null;
}

/** One event on its way to an endpoint, with its attempts. */
export interface WebhookDelivery {
  object: "webhook_delivery";
  /** The `webhook-id` header of every attempt (deduplicate on it). */
  id: string;
  endpoint_id: string;
  event_type: string;
  /** `pending`, `succeeded` or `dead` (given up; redeliverable). */
  status: "pending" | "succeeded" | "dead" | string;
  attempts: number;
  last_status_code?: number | null;
  last_error?: string | null;
  /** When the next attempt is due (pending deliveries). */
  next_attempt_at?: string | null;
  /** The body sent and signed: `{"type", "timestamp", "data"}`. */
  payload: WebhookPayload;
  created_at: string;
  log: WebhookAttempt[];
}

/** The body of every delivery (the Standard Webhooks payload shape). */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** The admin credential's identity (`GET /admin/v1/me`). */
export interface Caller {
  subject: string;
  /** `null` for the bootstrap admin, which may act on every tenant. */
  tenant: string | null;
  roles: string[];
  permissions: string[];
}

/** The running configuration (`GET /admin/v1/config`), every secret redacted. */
export interface RunningConfig {
  loaded_at: string;
  /** The configuration as TOML. */
  text: string;
}
