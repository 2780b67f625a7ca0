//! The typed configuration (`gateway.toml`). Each section is owned by the crate that uses it;
//! unknown keys are rejected so that a typo never silently does nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{FilesConfig, ServerConfig};

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
    /// Guardrails on requests and responses; the default is the secure default (injection
    /// and secrets blocked, other PII redacted).
    #[serde(default)]
    pub guardrails: gateway_policy::GuardrailConfig,
    /// Custom Rego policies (see `docs/policies.md`); none by default.
    #[serde(default)]
    pub policies: gateway_policy::PolicyConfig,

    /// Where tenants, keys, usage and audit live (default: SQLite under `server.data_dir`).
    #[serde(default)]
    pub store: gateway_store::StoreConfig,
    /// API keys and JWT issuers.
    #[serde(default)]
    pub auth: gateway_auth::AuthConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    /// The web console at `/ui/` (see `docs/console.md`).
    #[serde(default)]
    pub ui: UiConfig,
    #[serde(default)]
    pub query: QueryConfig,
    /// Stored responses of the Responses API: retention and size (see `docs/api.md`).
    #[serde(default)]
    pub responses: super::ResponsesConfig,
    /// The Files and Batch APIs (see `docs/batches.md`).
    #[serde(default)]
    pub files: FilesConfig,
    /// The Batch API's worker (see `docs/batches.md`).
    #[serde(default)]
    pub batches: super::BatchesConfig,
    /// Asynchronous single calls, `Prefer: respond-async` (see `docs/async.md`).
    #[serde(default, rename = "async")]
    pub async_calls: super::AsyncConfig,
    /// Signed webhooks and asynchronous calls (see `docs/webhooks.md`).
    #[serde(default)]
    pub webhooks: super::WebhooksConfig,
    /// Encrypted backups of the store, and their schedule (see `docs/operations.md`).
    #[serde(default)]
    pub backup: super::BackupConfig,
    /// Threat-intelligence feeds (see `docs/security.md`).
    #[serde(default)]
    pub threat_intel: super::ThreatIntelConfig,
    /// Behavioural anomaly detection (see `docs/security.md`): on by default, recording and
    /// alerting only.
    #[serde(default)]
    pub anomaly: gateway_policy::anomaly::AnomalyConfig,
    /// The response cache (off by default).
    #[serde(default)]
    pub cache: gateway_cache::CacheConfig,
    /// Encryption of stored content and the pass-through tenants (see `docs/security.md`).
    #[serde(default)]
    pub encryption: super::EncryptionConfig,
    /// Rate, token, concurrency and spend limits (see `docs/limits.md`).
    #[serde(default)]
    pub limits: gateway_policy::limits::LimitsConfig,
    /// Metrics, traces, usage and audit writers, model prices (see `docs/observability.md`).
    #[serde(default)]
    pub telemetry: gateway_telemetry::TelemetryConfig,
    /// Prompt-type routing: the virtual model, its CEL rules and candidates (see
    /// `docs/routing.md`); off when the section is absent.
    #[serde(default)]
    pub prompt_routing: Option<gateway_providers::auto::AutoRoutingConfig>,
    /// Quality scoring's optional LLM judge (see `docs/routing.md`); off when absent.
    #[serde(default)]
    pub quality: super::QualityConfig,
}

/// The simple `POST /query` API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryConfig {
    /// The public model `/query` uses; default: `default` if defined, else the first model by name.
    #[serde(default)]
    pub model: Option<String>,
}

impl Config {
    /// The model `/query` calls, if any model is configured.
    pub fn query_model(&self) -> Option<String> {
        self.query
            .model
            .clone()
            .or_else(|| {
                self.models
                    .contains_key("default")
                    .then(|| "default".to_owned())
            })
            .or_else(|| self.models.keys().next().cloned())
    }
}

/// The admin API (`/admin/v1/`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Bootstrap admin credential (use `${GATEWAY_ADMIN_TOKEN}`); keys with the `admin` role
    /// work too once issued. Without either, the admin API refuses every call.
    #[serde(default)]
    pub token: Option<Secret<String>>,
}

/// The web console (`/ui/`), served on the same listener as the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Serve the console at all (default on); off, every `/ui` path answers 404.
    pub enabled: bool,
    /// Offer the admin views (default on); off, the console is the playground only. The
    /// admin API is unaffected either way: its RBAC decides who may do what.
    pub admin: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            enabled: true,
            admin: true,
        }
    }
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Which provider factory builds it: `openai` (and every OpenAI-compatible server),
    /// `anthropic`, `gemini`, `azure`, or a kind registered with
    /// `gateway_providers::register_kind`.
    pub kind: String,
    /// The API root; defaults to the vendor's (required for Azure: `https://RESOURCE.openai.azure.com`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Azure `api-version`, or Anthropic's `anthropic-version` header.
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub api_key: Option<Secret<String>>,
    #[serde(default = "default_connect_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_first_byte_secs")]
    pub first_byte_timeout_secs: u64,
    #[serde(default = "default_total_secs")]
    pub total_timeout_secs: u64,
    /// The longest a streamed answer may last, from its response head.
    #[serde(default = "default_max_stream_secs")]
    pub max_stream_secs: u64,
    /// Longest event-stream line (and largest event data) accepted from this upstream, in
    /// bytes; a longer one ends the stream with an error.
    #[serde(default = "default_max_sse_line_bytes")]
    pub max_sse_line_bytes: usize,
    /// Extra headers sent with every upstream request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Fields of other vendors' APIs that the `openai` kind leaves out but this
    /// OpenAI-compatible server accepts, sent verbatim: `["top_k"]` for vLLM, Together...
    #[serde(default)]
    pub passthrough_params: Vec<String>,
    /// PEM file of the certificate authorities this upstream's TLS certificate is checked
    /// against, instead of the web PKI: a private CA (an internal vLLM or Ollama, say).
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// The cloud region: Bedrock's (`us-east-1`; default `AWS_REGION`), or the Vertex AI
    /// location (`us-central1`, `global`...; default `us-central1`).
    #[serde(default)]
    pub region: Option<String>,
    /// Bedrock: the AWS access key id requests are signed with (SigV4); without it (and
    /// without `api_key`), `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`.
    #[serde(default)]
    pub aws_access_key_id: Option<String>,
    #[serde(default)]
    pub aws_secret_access_key: Option<Secret<String>>,
    /// The session token of temporary credentials.
    #[serde(default)]
    pub aws_session_token: Option<Secret<String>>,
    /// Vertex AI: the Google Cloud project (default: the service account's `project_id`).
    #[serde(default)]
    pub project: Option<String>,
    /// Vertex AI: the service-account key file (JSON) whose tokens authenticate the calls.
    #[serde(default)]
    pub service_account_file: Option<std::path::PathBuf>,
}

/// A provider's connect timeout unless it sets one; the providers that keep it share one
/// upstream client.
pub const DEFAULT_CONNECT_MS: u64 = 5_000;

fn default_connect_ms() -> u64 {
    DEFAULT_CONNECT_MS
}
fn default_first_byte_secs() -> u64 {
    60
}
fn default_total_secs() -> u64 {
    300
}
pub(crate) fn default_max_stream_secs() -> u64 {
    gateway_providers::client::DEFAULT_MAX_STREAM.as_secs()
}
pub(crate) fn default_max_sse_line_bytes() -> usize {
    gateway_providers::sse::DEFAULT_MAX_LINE
}

/// A public model name and the deployments that serve it: either one deployment written
/// inline (`provider` + `upstream_model`), or a `deployments` list with a `routing` policy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub upstream_model: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub deployments: Vec<DeploymentConfig>,
    #[serde(default)]
    pub routing: gateway_providers::RoutingPolicy,
    /// Request parameters the upstream has no form for: `drop` (default; named in the
    /// `x-gateway-dropped-params` response header) or `reject` (a 400 naming the parameter).
    #[serde(default)]
    pub unsupported_params: gateway_providers::router::UnsupportedParams,
}

impl ModelConfig {
    /// One deployment on `provider` as `upstream_model`.
    pub fn single(provider: &str, upstream_model: &str) -> Self {
        ModelConfig {
            provider: Some(provider.to_owned()),
            upstream_model: Some(upstream_model.to_owned()),
            ..ModelConfig::default()
        }
    }

    /// The deployments, whichever way they were written.
    pub fn all_deployments(&self) -> Vec<DeploymentConfig> {
        match (&self.provider, &self.upstream_model) {
            (Some(provider), Some(model)) => vec![DeploymentConfig {
                provider: provider.clone(),
                upstream_model: model.clone(),
                weight: 1,
                priority: 0,
                region: self.region.clone(),
            }],
            _ => self.deployments.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    pub provider: String,
    pub upstream_model: String,
    #[serde(default = "one")]
    pub weight: u32,
    /// Lower is tried first.
    #[serde(default)]
    pub priority: u32,
    /// Region tag for data residency, e.g. `eu`.
    #[serde(default)]
    pub region: Option<String>,
}

fn one() -> u32 {
    1
}
