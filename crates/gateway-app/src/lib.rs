//! `gateway-app`: composition of the gateway.
//!
//! It owns the typed [`config::Config`] (load, `${VAR}` interpolation, `GATEWAY__*` overrides,
//! validation with dotted paths), assembles the pipeline from it in one place
//! ([`state::AppState::build`]), and runs the HTTP edge ([`server::Server`]: hyper 1.x,
//! HTTP/1.1 + HTTP/2, optional rustls TLS, limits, graceful shutdown) whose handlers decode
//! inbound dialects and render every error in one place ([`http::error`]). It is the only crate
//! that depends on all the phase crates; binaries depend on it. [`run()`] runs it as a process
//! (configuration, logging, the offline demo, serving, reload on SIGHUP).

pub mod anomaly;
pub mod async_calls;
pub mod backup_cli;
pub mod backups;
pub mod batches;
mod change_feed;
pub mod config;
pub mod dialects;
pub mod edge_cli;
pub mod encryption;
pub mod error;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod idle_backoff;
pub mod log_secrets;
pub mod openapi;
mod private_ca;
pub mod quality_judge;
pub mod reload;
pub mod responses_retention;
pub mod routing_bandit;
pub mod run;

pub mod server;
pub mod state;
pub mod templates;
pub mod threat_intel;
pub mod webhooks;

pub use config::Config;
pub use error::AppError;
pub use gateway_telemetry::logging;
pub use run::{DemoStarter, DemoUpstreamServer, RunOptions, run};
pub use server::{Server, shutdown_signal};
pub use state::AppState;
