/**
 * Official TypeScript SDK of LLM Secure Gateway: the admin API, guardrail checks, `/query`,
 * and the `openai` package configured for the gateway. No runtime dependencies (global fetch).
 *
 * ```ts
 * import { GatewayClient } from "llm-secure-gateway";
 * const admin = new GatewayClient({ baseURL: "http://127.0.0.1:8080", apiKey: ADMIN_TOKEN });
 * const key = await admin.keys.create({ tenant: "acme", name: "backend" }); // key.secret: once
 * ```
 */

export { GatewayClient } from "./client.js";
export { API_VERSION, VERSION } from "./version.js";
export * from "./errors.js";
export { RetryPolicy, type RetryOptions } from "./retry.js";
export { type ClientOptions, type RequestOptions, type TimeValue } from "./transport.js";
export { type RateLimitInfo, type ResponseMetadata, gatewayMetadata } from "./metadata.js";
export {
  type AnthropicConfig,
  type GatewayFetchOptions,
  type InferenceOptions,
  type OpenAIConfig,
  gatewayAnthropicConfig,
  gatewayFetch,
  gatewayOpenAIConfig,
} from "./inference.js";
export * from "./types.js";
export type { TenantCreate, TenantUpdate } from "./resources/tenants.js";
export type { KeyCreate, KeyUpdate } from "./resources/keys.js";
export type { UsageDimension, UsageQuery } from "./resources/usage.js";
export type {
  FeedbackDimension,
  FeedbackGive,
  FeedbackQuery,
  FeedbackRecord,
  FeedbackScore,
  FeedbackSummary,
  FeedbackSummaryRow,
} from "./resources/feedback.js";
export type { AuditQuery } from "./resources/audit.js";
export type { DeliveryQuery, WebhookCreate, WebhookUpdate } from "./resources/webhooks.js";
export type { Anomaly, AnomalyQuery, AnomalySignal } from "./resources/anomalies.js";
export type { Backup, BackupManifest, BackupTable } from "./resources/backups.js";
export type { KeyVersion, OpenedValue, Rewrap, TenantKeys } from "./resources/encryption.js";
export type {
  CreateTemplateParams,
  LintFinding,
  LintParams,
  LintReport,
  PromptTemplate,
  RenderedTemplate,
  TemplateDeleted,
  TemplateMessage,
  TemplateVariable,
  TemplateVersion,
} from "./resources/templates.js";
export {
  AsyncCallTimeoutError,
  type AsyncJob,
  type AsyncResult,
  type SubmitOptions,
  type WaitOptions,
} from "./resources/async-calls.js";
export {
  type VerifyOptions,
  type WebhookHeaders,
  WEBHOOK_TOLERANCE_SECONDS,
  WebhookVerificationError,
  signWebhook,
  verifyWebhook,
} from "./webhook-signature.js";
