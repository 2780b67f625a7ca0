//! Errors of setting telemetry up. Once running, telemetry never fails a request: write
//! failures are retried, counted and logged.

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("telemetry needs a tokio runtime to start its writers")]
    NoRuntime,
    #[error("OTLP exporter: {0}")]
    Otlp(String),
    #[error("audit file {path}: {message}")]
    AuditFile { path: String, message: String },
}
