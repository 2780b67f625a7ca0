//! OpenTelemetry traces: the OTLP/HTTP exporter (protobuf, the blocking HTTP client on the
//! batch processor's own thread), the `http.request` server span of each request continuing
//! the caller's W3C `traceparent`, and [`TracingGuard`] to flush and shut the exporter down.
//!
//! Spans come from `tracing`: the edge opens [`request_span`], the pipeline opens one span per
//! phase and a `chat {model}` span carrying the GenAI semantic-convention attributes
//! (`gen_ai.system`, `gen_ai.request.model`, `gen_ai.response.model`,
//! `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`).

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::config::OtlpConfig;
use crate::error::TelemetryError;

/// The instrumentation scope of the gateway's spans.
pub const TRACER_NAME: &str = "llm-gateway";

/// Keeps the trace exporter; flush before exit (buffered spans are lost otherwise).
#[derive(Debug, Default)]
pub struct TracingGuard {
    provider: Option<SdkTracerProvider>,
}

impl TracingGuard {
    pub(crate) fn new(provider: Option<SdkTracerProvider>) -> Self {
        TracingGuard { provider }
    }

    /// Whether spans are exported.
    pub fn is_exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Export every finished span now. Blocks the calling thread until the exporter answered:
    /// from async code, use [`TracingGuard::flush_async`].
    pub fn flush(&self) {
        if let Some(p) = &self.provider
            && let Err(e) = p.force_flush()
        {
            tracing::warn!(error = %e, "flushing traces failed");
        }
    }

    /// [`TracingGuard::flush`] on a blocking thread.
    pub async fn flush_async(&self) {
        if let Some(p) = self.provider.clone() {
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(e) = p.force_flush() {
                    tracing::warn!(error = %e, "flushing traces failed");
                }
            })
            .await;
        }
    }

    /// Flush and stop the exporter.
    pub fn shutdown(self) {
        if let Some(p) = self.provider
            && let Err(e) = p.shutdown()
        {
            eprintln!("trace exporter shutdown: {e}");
        }
    }
}

/// The tracer provider for `config`, or `None` when no endpoint is configured.
pub fn tracer_provider(config: &OtlpConfig) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    let Some(url) = config.traces_url() else {
        return Ok(None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .build()
        .map_err(|e| TelemetryError::Otlp(e.to_string()))?;
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
        config.sample_ratio.clamp(0.0, 1.0),
    )));
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(sampler)
            .with_resource(resource)
            .build(),
    ))
}

/// The `tracing` layer that turns spans into OpenTelemetry spans of `provider`.
pub fn otel_layer<S>(
    provider: &SdkTracerProvider,
) -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer(TRACER_NAME))
}

struct TraceHeaders<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for TraceHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(self.traceparent),
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// The server span of one HTTP request. `route` is the fixed route name (never the raw
/// path); a valid W3C `traceparent` (and `tracestate`) from the caller makes it a child of
/// the caller's span.
pub fn request_span(
    method: &str,
    route: &'static str,
    request_id: &str,
    traceparent: Option<&str>,
    tracestate: Option<&str>,
) -> tracing::Span {
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        request_id = %request_id,
    );
    if let Some(traceparent) = traceparent {
        let cx = TraceContextPropagator::new().extract(&TraceHeaders {
            traceparent,
            tracestate,
        });
        if cx.span().span_context().is_valid() {
            // Fails only when no OpenTelemetry layer is installed: nothing to continue then.
            let _ = span.set_parent(cx);
        }
    }
    span
}

/// Record the response status on a [`request_span`].
pub fn record_status(span: &tracing::Span, status: u16) {
    span.record("http.response.status_code", u64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// The W3C trace id of `span` (32 hex digits), when it is exported with OpenTelemetry.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}
