//! [`Telemetry`]: everything the gateway records about its calls, behind one handle that is
//! the pipeline's [`UsageSink`] and [`AuditSink`] and gives out the [`CostModel`].
//!
//! Each usage record goes, in this order and from this one place, to the metrics, the call's
//! trace span, the access log line and the batched store writer.

use std::collections::HashSet;
use std::sync::Arc;

use gateway_core::TenantId;
use gateway_core::phases::account::{
    AuditSink, CostModel, UsageRecord, UsageSink, record_call_span,
};
use gateway_core::store::{AuditEvent, AuditStore, UsageStore};

use crate::audit::AuditWriter;
use crate::config::TelemetryConfig;
use crate::error::TelemetryError;
use crate::events::stream_block_event;
use crate::metrics::{Metrics, is_stream_output_block};
use crate::prices::PriceTable;
use crate::usage::UsageWriter;

/// Metrics, prices, the usage writer and the audit writer. Build once per process with
/// [`Telemetry::start`] (inside a tokio runtime), share as `Arc<Telemetry>`, and
/// [`Telemetry::flush`] on graceful shutdown before closing the store.
pub struct Telemetry {
    metrics: Arc<Metrics>,
    prices: Arc<PriceTable>,
    usage: UsageWriter,
    audit: AuditWriter,
    metrics_enabled: bool,
    prompt_tenants: HashSet<String>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("prices", &self.prices.len())
            .field("metrics_enabled", &self.metrics_enabled)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Start the writers on the current tokio runtime. Usage goes to `usage_store`; audit
    /// events to `audit_store` (when `telemetry.audit.store` is on) and the audit file.
    pub fn start(
        config: &TelemetryConfig,
        usage_store: Arc<dyn UsageStore>,
        audit_store: Option<Arc<dyn AuditStore>>,
    ) -> Result<Arc<Telemetry>, TelemetryError> {
        let metrics = Arc::new(Metrics::new());
        let usage = UsageWriter::start(usage_store, &config.usage, metrics.clone())?;
        let audit = AuditWriter::start(audit_store, &config.audit, metrics.clone())?;
        Ok(Arc::new(Telemetry {
            metrics,
            prices: Arc::new(PriceTable::with_overrides(&config.prices)),
            usage,
            audit,
            metrics_enabled: config.metrics.enabled,
            prompt_tenants: config.log_prompts_for_tenants.iter().cloned().collect(),
        }))
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Whether `GET /metrics` is served.
    pub fn metrics_enabled(&self) -> bool {
        self.metrics_enabled
    }

    pub fn prices(&self) -> &Arc<PriceTable> {
        &self.prices
    }

    /// The price table as the pipeline's cost model.
    pub fn cost_model(&self) -> Arc<dyn CostModel> {
        self.prices.clone()
    }

    /// Whether the operator allowed prompts and completions of `tenant` in logs.
    pub fn logs_prompts_for(&self, tenant: &TenantId) -> bool {
        // Asked on every call: with nobody listed (the default), no hashing at all.
        !self.prompt_tenants.is_empty() && self.prompt_tenants.contains(tenant.as_str())
    }

    /// Wait until every usage record and audit event recorded so far is written.
    pub async fn flush(&self) {
        self.usage.flush().await;
        self.audit.flush().await;
    }
}

impl UsageSink for Telemetry {
    fn record(&self, record: UsageRecord) {
        self.metrics.observe_usage(&record);
        record_call_span(&tracing::Span::current(), &record);
        access_log(&record);
        if is_stream_output_block(&record) {
            self.audit.audit(stream_block_event(&record));
        }
        self.usage.record(record);
    }
}

impl AuditSink for Telemetry {
    fn audit(&self, event: AuditEvent) {
        self.audit.audit(event);
    }
}

fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// One line per model call. Never a secret, never prompt text.
fn access_log(r: &UsageRecord) {
    let (prompt, completion) = r.usage.as_ref().map_or((None, None), |u| {
        (Some(u.prompt_tokens), Some(u.completion_tokens))
    });
    tracing::info!(
        target: "gateway::access",
        request_id = %r.request_id,
        tenant = %r.tenant,
        principal = %r.subject,
        route = r.endpoint,
        model = %r.model,
        provider = r.provider.as_deref(),
        upstream_model = r.upstream_model.as_deref(),
        status = r.status,
        latency_ms = millis(r.latency),
        upstream_ms = r.upstream_latency.map(millis),
        ttft_ms = r.time_to_first_token.map(millis),
        prompt_tokens = prompt,
        completion_tokens = completion,
        cost_usd = r.cost_usd,
        stream = r.stream,
        cache_hit = r.cache_hit,
        cancelled = r.cancelled,
        "request"
    );
}
