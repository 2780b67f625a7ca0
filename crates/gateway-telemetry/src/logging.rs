//! Process-wide logging through `tracing`: human-readable text or one JSON object per line,
//! plus, when an OTLP endpoint is configured, the OpenTelemetry layer exporting spans.
//!
//! Each model call logs one line with target `gateway::access` (request id, tenant,
//! principal, route, model, provider, status, latency, tokens, cost): see
//! [`crate::Telemetry`]. Secrets never reach a log line: every line goes through
//! [`crate::log_mask`] (`gateway_core::secret_mask`: known secrets and caller credentials masked by exact value and shape)
//! on its way to stderr. Prompts are logged only for the tenants listed in
//! `telemetry.log_prompts_for_tenants`.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::OtlpConfig;
use crate::error::TelemetryError;
use crate::log_mask::MaskedStderr;
use crate::trace::{self, TracingGuard};

/// Output format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Which spans are exported, whatever the log level: the gateway's own.
const TRACE_FILTER: &str = "warn,gateway_core=info,gateway_app=info,gateway_telemetry=info,\
                            gateway_providers=info,gateway_policy=info,gateway_auth=info,\
                            gateway_cache=info,gateway_store=info";

fn env_filter(filter: &str) -> EnvFilter {
    EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

fn fmt_layer(format: Format) -> Box<dyn Layer<Registry> + Send + Sync> {
    let base = tracing_subscriber::fmt::layer().with_writer(MaskedStderr);
    match format {
        Format::Text => base.with_target(false).boxed(),
        Format::Json => base
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .boxed(),
    }
}

/// Install the global subscriber. `filter` is a `tracing` filter such as `info`; `RUST_LOG`
/// wins when set. Logs go to stderr so stdout stays free for machine-readable output.
pub fn init(format: Format, filter: &str) {
    // Already initialised (tests, embedding): keep the existing subscriber.
    let _ = tracing_subscriber::registry()
        .with(fmt_layer(format).with_filter(env_filter(filter)))
        .try_init();
}

/// [`init`], plus OpenTelemetry trace export when `otlp.endpoint` is set. Keep the guard and
/// call [`TracingGuard::shutdown`] before the process exits. When a global subscriber is
/// already installed, nothing is exported (the guard says so).
pub fn init_with_otlp(
    format: Format,
    filter: &str,
    otlp: &OtlpConfig,
) -> Result<TracingGuard, TelemetryError> {
    let provider = trace::tracer_provider(otlp)?;
    let otel = provider
        .as_ref()
        .map(|p| trace::otel_layer(p).with_filter(EnvFilter::new(TRACE_FILTER)));
    let installed = tracing_subscriber::registry()
        .with(fmt_layer(format).with_filter(env_filter(filter)))
        .with(otel)
        .try_init()
        .is_ok();
    match provider {
        Some(p) if installed => {
            opentelemetry::global::set_tracer_provider(p.clone());
            Ok(TracingGuard::new(Some(p)))
        }
        Some(p) => {
            let _ = p.shutdown();
            Ok(TracingGuard::new(None))
        }
        None => Ok(TracingGuard::new(None)),
    }
}
