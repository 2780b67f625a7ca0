//! Prompts and completions in the logs, for the tenants the operator opted in
//! (`telemetry.log_prompts_for_tenants`, carried by [`RequestContext::log_content`]). Never
//! for anyone else: the gateway's other log lines carry no prompt or completion text.
//!
//! One event per direction, target `gateway::content`, level INFO: the prompt as sent
//! upstream (after the input guardrails redacted it), and the completion as the caller
//! received it (after the output guardrails; a stream's text once it ended).

use crate::context::RequestContext;
use crate::principal::TenantId;
use crate::types::{ChatRequest, ChatResponse};

/// The tracing target of these events, for log filters (`info,gateway::content=off`).
pub const TARGET: &str = "gateway::content";

/// The messages of `req` as they go upstream.
pub(crate) fn prompt(ctx: &RequestContext, req: &ChatRequest) {
    let messages = serde_json::to_string(&req.messages).unwrap_or_default();
    tracing::info!(
        target: TARGET,
        request_id = %ctx.request_id,
        tenant = %ctx.principal.tenant,
        model = %req.model,
        kind = "prompt",
        messages = %messages,
        "content"
    );
}

/// The choices of a whole response as the caller receives them.
pub(crate) fn completion(ctx: &RequestContext, response: &ChatResponse) {
    let messages: Vec<_> = response.choices.iter().map(|c| &c.message).collect();
    let messages = serde_json::to_string(&messages).unwrap_or_default();
    tracing::info!(
        target: TARGET,
        request_id = %ctx.request_id,
        tenant = %ctx.principal.tenant,
        kind = "completion",
        messages = %messages,
        "content"
    );
}

/// The text a stream delivered (every choice's, in arrival order).
pub(crate) fn streamed_completion(request_id: &str, tenant: &TenantId, text: &str) {
    tracing::info!(
        target: TARGET,
        request_id = %request_id,
        tenant = %tenant,
        kind = "completion",
        text = %text,
        "content"
    );
}
