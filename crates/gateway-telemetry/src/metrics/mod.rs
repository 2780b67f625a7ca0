//! Prometheus metrics, named `gateway_<area>_<name>_<unit>`, with low-cardinality labels only:
//! route, public model, provider, status, tenant, guardrail, limit kind, reason. Never a key
//! id, a request id or any text of a prompt.
//!
//! Per-call series are fed from one place, [`Metrics::observe_usage`] (every
//! `UsageRecord`); the edge adds HTTP requests and in-flight, rejections it answers
//! ([`Metrics::observe_error`]) and router state at scrape time
//! ([`Metrics::set_deployments`]).

mod anomaly;
mod connections;
mod deployments;
mod external;
mod labels;
mod quality;
mod series;
mod threat_intel;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use gateway_core::phases::account::UsageRecord;
use gateway_core::{DeniedBy, GatewayError, LimitKind};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use anomaly::AnomalyMetrics;
pub use connections::{CloseReason, ConnectionMetrics, OpenConnection};
use deployments::DeploymentCollector;
pub use deployments::{CIRCUIT_STATES, DeploymentSnapshot};
use external::ExternalCollector;
pub use external::Sample;
use labels::*;
use series::{SeriesCache, SeriesKey};
pub use threat_intel::ThreatIntelMetrics;

/// The content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Seconds = Family<RouteModel, Histogram>;
type CostCounter = Counter<f64, AtomicU64>;

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
    ])
}

fn overhead_histogram() -> Histogram {
    Histogram::new([
        0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    ])
}

/// Every gateway metric, registered once. Cheap to share (`Arc<Metrics>`).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_in_flight: Gauge,
    calls: Family<CallLabels, Counter>,
    call_duration: Seconds,
    overhead: Family<RouteLabel, Histogram, fn() -> Histogram>,
    upstream_duration: Family<ProviderModel, Histogram, fn() -> Histogram>,
    ttft: Family<ProviderModel, Histogram, fn() -> Histogram>,
    tokens: Family<TokenLabels, Counter>,
    cost: Family<TenantModel, CostCounter>,
    saved_cost: Family<TenantModel, CostCounter>,
    unpriced: Family<ModelLabel, Counter>,
    cache_hits: Family<RouteModel, Counter>,
    cancelled: Family<RouteModel, Counter>,
    guardrail_blocks: Family<GuardrailLabel, Counter>,
    limit_rejections: Family<LimitLabel, Counter>,
    auth_failures: Family<ReasonLabel, Counter>,
    dropped: Family<NameLabel, Counter>,
    written: Family<NameLabel, Counter>,
    write_errors: Family<NameLabel, Counter>,
    deployments: Arc<DeploymentCollector>,
    external: Arc<ExternalCollector>,
    connections: ConnectionMetrics,
    threat_intel: ThreatIntelMetrics,
    anomaly: AnomalyMetrics,
    quality: quality::QualityMetrics,
    series: SeriesCache,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let m = Metrics {
            http_requests: Family::default(),
            http_in_flight: Gauge::default(),
            calls: Family::default(),
            call_duration: Family::new_with_constructor(latency_histogram),
            overhead: Family::new_with_constructor(overhead_histogram),
            upstream_duration: Family::new_with_constructor(latency_histogram),
            ttft: Family::new_with_constructor(latency_histogram),
            tokens: Family::default(),
            cost: Family::default(),
            saved_cost: Family::default(),
            unpriced: Family::default(),
            cache_hits: Family::default(),
            cancelled: Family::default(),
            guardrail_blocks: Family::default(),
            limit_rejections: Family::default(),
            auth_failures: Family::default(),
            dropped: Family::default(),
            written: Family::default(),
            write_errors: Family::default(),
            deployments: Arc::default(),
            external: Arc::default(),
            connections: ConnectionMetrics::default(),
            threat_intel: ThreatIntelMetrics::default(),
            anomaly: AnomalyMetrics::default(),
            quality: quality::QualityMetrics::default(),
            series: SeriesCache::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "gateway_http_requests",
            "HTTP requests answered, by route and status",
            m.http_requests.clone(),
        );
        r.register(
            "gateway_http_requests_in_flight",
            "HTTP requests being handled now (streams until they end)",
            m.http_in_flight.clone(),
        );
        r.register("gateway_model_requests", "Model calls (chat, messages, query, embeddings) by route, public model, provider and status", m.calls.clone());
        r.register(
            "gateway_request_duration_seconds",
            "Model call latency end to end (streams: until the last event)",
            m.call_duration.clone(),
        );
        r.register(
            "gateway_overhead_duration_seconds",
            "Time the gateway itself added to a call: total latency minus upstream time",
            m.overhead.clone(),
        );
        r.register(
            "gateway_upstream_duration_seconds",
            "Time spent waiting on the upstream provider (streams: until the stream ended)",
            m.upstream_duration.clone(),
        );
        r.register(
            "gateway_time_to_first_token_seconds",
            "Time from request to the first streamed token",
            m.ttft.clone(),
        );
        r.register(
            "gateway_tokens",
            "Tokens used, by tenant, public model and kind (prompt, completion, cached, reasoning)",
            m.tokens.clone(),
        );
        r.register(
            "gateway_cost_usd",
            "Upstream cost in USD of priced calls, by tenant and public model",
            m.cost.clone(),
        );
        r.register(
            "gateway_cache_saved_cost_usd",
            "Upstream cost in USD the response cache saved, by tenant and public model",
            m.saved_cost.clone(),
        );
        r.register(
            "gateway_cost_unpriced_requests",
            "Calls whose model has no known price (cost unknown, not zero)",
            m.unpriced.clone(),
        );
        r.register(
            "gateway_cache_hits",
            "Calls answered from the response cache",
            m.cache_hits.clone(),
        );
        r.register(
            "gateway_requests_cancelled",
            "Calls the client abandoned before the response completed",
            m.cancelled.clone(),
        );
        r.register(
            "gateway_guardrail_blocks",
            "Requests and responses blocked by a guardrail",
            m.guardrail_blocks.clone(),
        );
        r.register(
            "gateway_limit_rejections",
            "Requests rejected by a rate, token, concurrency or budget limit",
            m.limit_rejections.clone(),
        );
        r.register(
            "gateway_auth_failures",
            "Requests refused for missing, invalid or insufficient credentials",
            m.auth_failures.clone(),
        );
        r.register("gateway_telemetry_dropped_records", "Usage records and audit events dropped because the buffer was full or the write failed for good", m.dropped.clone());
        r.register(
            "gateway_telemetry_written_records",
            "Usage records and audit events written to the store",
            m.written.clone(),
        );
        r.register(
            "gateway_telemetry_write_errors",
            "Failed writes of usage batches and audit events (each retried)",
            m.write_errors.clone(),
        );
        m.connections.register(r);
        m.threat_intel.register(r);
        m.anomaly.register(r);
        m.quality.register(r);
        r.register_collector(Box::new(m.deployments.clone()));
        r.register_collector(Box::new(m.external.clone()));
        Metrics { registry, ..m }
    }

    /// The OpenMetrics text of every metric (serve with [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// The latest router state, exported on the next scrape.
    pub fn set_deployments(&self, snapshots: Vec<DeploymentSnapshot>) {
        match self.deployments.latest.lock() {
            Ok(mut guard) => *guard = snapshots,
            Err(poisoned) => *poisoned.into_inner() = snapshots,
        }
    }

    /// The latest stats other phases keep (limiter, cache), exported on the next scrape.
    pub fn set_external(&self, samples: Vec<Sample>) {
        match self.external.latest.lock() {
            Ok(mut guard) => *guard = samples,
            Err(poisoned) => *poisoned.into_inner() = samples,
        }
    }

    /// The threat-intelligence feeds' series.
    pub fn threat_intel(&self) -> &ThreatIntelMetrics {
        &self.threat_intel
    }

    /// Anomaly detection's series.
    pub fn anomaly(&self) -> &AnomalyMetrics {
        &self.anomaly
    }

    /// The listener's connection series.
    pub fn connections(&self) -> &ConnectionMetrics {
        &self.connections
    }

    /// Count one HTTP request as in flight until the guard drops.
    pub fn http_in_flight(&self) -> InFlight {
        self.http_in_flight.inc();
        InFlight(self.http_in_flight.clone())
    }

    /// One answered HTTP request. `route` is a fixed route name, never the raw path.
    pub fn http_request(&self, route: &'static str, status: u16) {
        self.http_requests
            .get_or_create(&HttpLabels { route, status })
            .inc();
    }

    /// Every per-call series, from the call's usage record.
    pub fn observe_usage(&self, r: &UsageRecord) {
        let provider = r.provider.clone().unwrap_or_else(|| Arc::from("none"));
        // One allocation for the model label, shared by every series below.
        let model: Arc<str> = Arc::from(r.model.as_str());
        let route = r.endpoint;
        let tenant = r.tenant.0.clone();
        let series = self.series.get(SeriesKey {
            route,
            status: r.status,
            model: model.clone(),
            provider: provider.clone(),
            tenant: tenant.clone(),
        });
        let route_model = RouteModel {
            route,
            model: model.clone(),
        };
        let provider_model = || ProviderModel {
            provider: provider.clone(),
            model: model.clone(),
        };
        series
            .calls
            .get_or_init(|| {
                let labels = CallLabels {
                    route,
                    model: model.clone(),
                    provider: provider.clone(),
                    status: r.status,
                };
                self.calls.get_or_create(&labels).clone()
            })
            .inc();
        series
            .duration
            .get_or_init(|| self.call_duration.get_or_create(&route_model).clone())
            .observe(secs(r.latency));
        let overhead = || {
            series
                .overhead
                .get_or_init(|| self.overhead.get_or_create(&RouteLabel { route }).clone())
        };
        if let Some(upstream) = r.upstream_latency {
            series
                .upstream
                .get_or_init(|| {
                    self.upstream_duration
                        .get_or_create(&provider_model())
                        .clone()
                })
                .observe(secs(upstream));
            overhead().observe(secs(r.latency.saturating_sub(upstream)));
        } else if r.cache_hit {
            overhead().observe(secs(r.latency));
        }
        if let Some(ttft) = r.time_to_first_token {
            series
                .ttft
                .get_or_init(|| self.ttft.get_or_create(&provider_model()).clone())
                .observe(secs(ttft));
        }
        if let Some(u) = &r.usage {
            let token_labels = |kind| TokenLabels {
                tenant: tenant.clone(),
                model: model.clone(),
                kind,
            };
            series
                .prompt_tokens
                .get_or_init(|| self.tokens.get_or_create(&token_labels("prompt")).clone())
                .inc_by(u.prompt_tokens);
            series
                .completion_tokens
                .get_or_init(|| {
                    self.tokens
                        .get_or_create(&token_labels("completion"))
                        .clone()
                })
                .inc_by(u.completion_tokens);
            for (kind, n) in [
                ("cached", u.cached_tokens()),
                ("reasoning", u.reasoning_tokens()),
            ] {
                if n > 0 {
                    self.tokens.get_or_create(&token_labels(kind)).inc_by(n);
                }
            }
        }
        let tenant_model = TenantModel {
            tenant,
            model: model.clone(),
        };
        match r.cost_usd {
            Some(cost) => {
                series
                    .cost
                    .get_or_init(|| self.cost.get_or_create(&tenant_model).clone())
                    .inc_by(cost);
            }
            None if r.usage.is_some() => {
                self.unpriced
                    .get_or_create(&ModelLabel {
                        model: model.clone(),
                    })
                    .inc();
            }
            None => {}
        }
        if let Some(saved) = r.saved_cost_usd {
            self.saved_cost.get_or_create(&tenant_model).inc_by(saved);
        }
        if r.cache_hit {
            self.cache_hits.get_or_create(&route_model).inc();
        }
        if r.cancelled {
            self.cancelled.get_or_create(&route_model).inc();
        }
        if is_stream_output_block(r) {
            self.guardrail_block("stream_output");
        }
        if let Some(q) = &r.quality {
            self.quality.observe(&series, &model, r.task, q);
        }
    }

    /// Count a rejection the edge answered: guardrail blocks, limit rejections and
    /// authentication/authorisation failures. Other errors are only in the request counters.
    pub fn observe_error(&self, err: &GatewayError) {
        match err {
            GatewayError::PolicyBlocked { guardrail, .. } => self.guardrail_block(guardrail),
            GatewayError::RateLimited { limit, .. } => self.limit_rejection(*limit),
            GatewayError::Unauthenticated(refusal) => self.auth_failure(refusal.reason.as_str()),
            GatewayError::Forbidden(denial) => self.auth_failure(match denial.by {
                DeniedBy::ClientAddress => "client_address",
                DeniedBy::ThreatIntel { .. } => "threat_intel",
                _ => "forbidden",
            }),
            _ => {}
        }
    }

    pub fn guardrail_block(&self, guardrail: &str) {
        self.guardrail_blocks
            .get_or_create(&GuardrailLabel {
                guardrail: Arc::from(guardrail),
            })
            .inc();
    }

    pub fn limit_rejection(&self, limit: LimitKind) {
        self.limit_rejections
            .get_or_create(&LimitLabel {
                limit: limit.as_str(),
            })
            .inc();
    }

    /// `reason`: `missing`, `invalid`, `forbidden`, `client_address` (outside the key's or
    /// tenant's allowed networks) or `threat_intel` (a feed lists the caller).
    pub fn auth_failure(&self, reason: &'static str) {
        self.auth_failures
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// `name`: `usage` or `audit`.
    pub(crate) fn dropped(&self, name: &'static str, n: u64) {
        self.dropped
            .get_or_create(&NameLabel {
                name: Arc::from(name),
            })
            .inc_by(n);
    }

    pub(crate) fn written(&self, name: &'static str, n: u64) {
        self.written
            .get_or_create(&NameLabel {
                name: Arc::from(name),
            })
            .inc_by(n);
    }

    pub(crate) fn write_error(&self, name: &'static str) {
        self.write_errors
            .get_or_create(&NameLabel {
                name: Arc::from(name),
            })
            .inc();
    }
}

/// A streamed response stopped by an output guardrail (input blocks never start a stream).
pub(crate) fn is_stream_output_block(r: &UsageRecord) -> bool {
    r.stream && r.status == 422 && r.provider.is_some()
}

/// Decrements the in-flight gauge when dropped.
#[derive(Debug)]
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests;
