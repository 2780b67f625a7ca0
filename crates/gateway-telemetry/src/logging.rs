//! Process-wide logging through `tracing`: human-readable text or one JSON object per line.

use tracing_subscriber::EnvFilter;

/// Output format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Install the global subscriber. `filter` is a `tracing` filter such as `info`; `RUST_LOG`
/// wins when set. Logs go to stderr so stdout stays free for machine-readable output.
pub fn init(format: Format, filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        Format::Text => builder.with_target(false).try_init(),
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    // Already initialised (tests, embedding): keep the existing subscriber.
    let _ = result;
}
