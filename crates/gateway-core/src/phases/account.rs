//! Phase 9: account — usage records and audit events. Sinks never block the request path.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::context::RequestContext;
use crate::principal::TenantId;
use crate::store::AuditEvent;
use crate::types::Usage;

/// What one call consumed and how it went.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    pub request_id: Arc<str>,
    pub at: SystemTime,
    pub tenant: TenantId,
    pub subject: Arc<str>,
    pub endpoint: &'static str,
    /// The public model name the caller asked for.
    pub model: String,
    pub provider: Option<Arc<str>>,
    pub upstream_model: Option<Arc<str>>,
    pub usage: Option<Usage>,
    /// `None` when the model has no known price (unknown, not zero); zero for cache hits.
    pub cost_usd: Option<f64>,
    /// For cache hits: what the answer would have cost upstream.
    pub saved_cost_usd: Option<f64>,
    pub status: u16,
    pub latency: Duration,
    /// Time spent waiting on the upstream (router calls; for streams, until the stream ended).
    /// `latency - upstream_latency` is the gateway's own overhead. `None` when no upstream
    /// was called (rejections, cache hits).
    pub upstream_latency: Option<Duration>,
    pub time_to_first_token: Option<Duration>,
    pub stream: bool,
    pub cache_hit: bool,
    /// The client went away before the response completed.
    pub cancelled: bool,
    /// The batch this call is a line of (`RequestContext::batch`).
    pub batch_id: Option<Arc<str>>,
    /// The heuristic quality of the answer (completed chat calls; `None` otherwise).
    pub quality: Option<crate::features::QualityRecord>,
    /// The task the prompt classifier saw, when routing classified the request.
    pub task: Option<crate::features::TaskType>,
    /// Why a virtual model's call went where it did ([`crate::phases::route::ServedBy`]).
    pub route_reason: Option<Arc<str>>,
    /// What the guardrails found on the call's input and output (flags, redactions, blocks).
    pub guardrail_findings: crate::phases::guard::FindingTally,
}

/// Receives usage records. `record` must return at once (buffer and write in the background).
pub trait UsageSink: Send + Sync {
    fn record(&self, record: UsageRecord);

    /// The pipeline's entry: the record and the client address the edge recorded for the
    /// call. A sink that watches behaviour per address (anomaly detection) overrides it;
    /// the default forgets the address and calls [`UsageSink::record`].
    fn record_call(&self, record: UsageRecord, client_ip: Option<std::net::IpAddr>) {
        let _ = client_ip;
        self.record(record);
    }
}

/// Prices calls. Implemented by `gateway-telemetry`'s model price table.
pub trait CostModel: Send + Sync {
    /// Cost in USD of `usage` on `upstream_model` at `provider`; `None` when the price is unknown.
    fn cost_usd(&self, provider: &str, upstream_model: &str, usage: &Usage) -> Option<f64>;
}

/// Receives security events (authentication failures, policy and limit rejections, admin
/// actions). `audit` must return at once: the event is buffered and written in the background,
/// and a full buffer is reported (counted and logged), never silently dropped.
pub trait AuditSink: Send + Sync {
    fn audit(&self, event: AuditEvent);
}

/// The span of one model call (`gen_ai.chat`, exported as `chat {model}`), with the
/// OpenTelemetry GenAI semantic-convention attributes. What is known up front is set here;
/// [`record_call_span`] fills in the rest from the call's [`UsageRecord`]. Usage sinks run
/// inside it (streams: when the stream ends), so the span lasts as long as the call.
pub fn call_span(ctx: &RequestContext, model: &str, stream: bool) -> tracing::Span {
    use tracing::field::Empty;
    tracing::info_span!(
        "gen_ai.chat",
        otel.name = %format_args!("chat {model}"),
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.operation.name = "chat",
        gen_ai.system = Empty,
        gen_ai.request.model = %model,
        gen_ai.response.model = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gateway.request_id = %ctx.request_id,
        gateway.tenant = %ctx.principal.tenant,
        gateway.stream = stream,
        gateway.status = Empty,
        gateway.cache_hit = Empty,
        gateway.cost_usd = Empty,
    )
}

/// Record what a call used on a [`call_span`] (a no-op on any other span).
pub fn record_call_span(span: &tracing::Span, r: &UsageRecord) {
    if let Some(provider) = &r.provider {
        span.record("gen_ai.system", &**provider);
    }
    if let Some(model) = &r.upstream_model {
        span.record("gen_ai.response.model", &**model);
    }
    if let Some(u) = &r.usage {
        span.record("gen_ai.usage.input_tokens", u.prompt_tokens);
        span.record("gen_ai.usage.output_tokens", u.completion_tokens);
    }
    if let Some(cost) = r.cost_usd {
        span.record("gateway.cost_usd", cost);
    }
    span.record("gateway.status", u64::from(r.status));
    span.record("gateway.cache_hit", r.cache_hit);
    if r.status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// Run a stream's end-of-call accounting inside `span` (keeping the span open until then).
pub(crate) fn in_span<T: 'static>(
    span: tracing::Span,
    f: Box<dyn FnOnce(T) + Send>,
) -> Box<dyn FnOnce(T) + Send> {
    Box::new(move |t| span.in_scope(|| f(t)))
}
