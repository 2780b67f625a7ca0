//! `gateway-telemetry`: what the gateway tells operators about itself.
//!
//! It owns logging ([`logging::init`]: human or JSON lines through `tracing`), and is the home
//! of metrics, traces, audit events and usage/cost accounting as they land. It depends only on
//! `gateway-core`; it never sees secrets or prompts unless the operator enables prompt logging.

pub mod logging;
