//! `gateway-telemetry`: what the gateway tells operators about itself — and proves.
//!
//! It owns logging ([`logging::init`], [`logging::init_with_otlp`]: text or JSON lines through
//! `tracing`, OpenTelemetry spans over OTLP/HTTP), Prometheus metrics ([`Metrics`]), usage and
//! cost accounting ([`UsageWriter`] batching records, or per-minute totals, into the store;
//! [`PriceTable`] with the shipped model prices), and the audit trail ([`AuditWriter`] into the store's hash chain and an
//! optional JSON-lines file). [`Telemetry`] puts them behind the pipeline's `UsageSink`,
//! `AuditSink` and `CostModel` traits.
//!
//! It depends only on `gateway-core` among the gateway crates. Every log line passes
//! [`log_mask`], which masks the secrets the application registered and caller credentials
//! (`gateway_core::secret_mask`); it
//! never logs prompts unless the operator enabled it for a tenant. Nothing here blocks a
//! request: sinks queue into bounded buffers, and a full buffer is counted and logged.
//!
//! Entry points: [`TelemetryConfig`] (the `[telemetry]` section), [`Telemetry::start`],
//! [`logging::init_with_otlp`], [`trace::request_span`], [`Metrics::encode`].

pub mod audit;
pub mod config;
pub mod error;
pub mod events;
pub mod log_mask;
pub mod logging;
pub mod metrics;
pub mod prices;
pub mod retention;
mod telemetry;
mod throttle;
pub mod trace;
pub mod usage;
mod usage_minutes;

pub use audit::{AuditWriter, verify_file};
pub use config::TelemetryConfig;
pub use error::TelemetryError;
pub use metrics::{DeploymentSnapshot, Metrics};
pub use prices::{ModelPrice, PRICES_AS_OF, PriceTable};
pub use telemetry::Telemetry;
pub use trace::TracingGuard;
pub use usage::UsageWriter;
