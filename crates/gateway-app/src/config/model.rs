//! The typed configuration (`gateway.toml`). Each section is owned by the crate that uses it;
//! unknown keys are rejected so that a typo never silently does nothing.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use gateway_core::Secret;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub logging: LoggingConfig,
    /// Upstream providers by name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Public model names by name.
    #[serde(default)]
    pub models: BTreeMap<String, ModelConfig>,
}

/// Listener, limits and timeouts. Changing these needs a restart.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Largest accepted request body; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Largest accepted request head (request line + headers); larger get 431.
    pub max_header_bytes: usize,
    /// Time allowed to receive a request head, also the idle time of a kept-alive connection.
    pub header_timeout_secs: u64,
    /// Time allowed to receive the request body.
    pub body_timeout_secs: u64,
    /// Longest non-streamed request, end to end; streams are bounded by the upstream's idle timeout.
    pub request_timeout_secs: u64,
    /// On SIGTERM/SIGINT, how long in-flight requests and streams may run on.
    pub shutdown_grace_secs: u64,
    pub tls: Option<TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 4 * 1024 * 1024,
            max_header_bytes: 16 * 1024,
            header_timeout_secs: 30,
            body_timeout_secs: 30,
            request_timeout_secs: 600,
            shutdown_grace_secs: 30,
            tls: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `info,gateway_providers=debug`.
    pub level: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI and every OpenAI-compatible server.
    Openai,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    pub base_url: String,
    #[serde(default)]
    pub api_key: Option<Secret<String>>,
    #[serde(default = "default_connect_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_first_byte_secs")]
    pub first_byte_timeout_secs: u64,
    #[serde(default = "default_total_secs")]
    pub total_timeout_secs: u64,
    /// Extra headers sent with every upstream request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_connect_ms() -> u64 {
    5_000
}
fn default_first_byte_secs() -> u64 {
    60
}
fn default_total_secs() -> u64 {
    300
}

/// A public model name: the provider that serves it and the name it has there.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub provider: String,
    pub upstream_model: String,
}
