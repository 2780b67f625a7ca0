//! The `[guardrails]` configuration section. Every field has a default, and the defaults are
//! the secure ones: injection detection blocks, secrets are blocked, other PII is redacted,
//! responses (and streams) are scanned for PII and secrets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::guardrails::external::ModerationApiConfig;
use crate::guardrails::finding::Action;

use crate::guardrails::injection::DEFAULT_THRESHOLD;

/// The whole `[guardrails]` section: the default policy plus per-tenant overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct GuardrailConfig {
    pub injection: InjectionConfig,
    pub pii: PiiConfig,
    pub moderation: ModerationConfig,
    pub stream: StreamConfig,
    /// The optional external moderation service (OpenAI `/v1/moderations` format), asked
    /// about every request after the guardrails; off when absent. Not per tenant.
    pub moderation_api: Option<ModerationApiConfig>,
    /// Per-tenant overrides, keyed by tenant id. A section given for a tenant replaces the
    /// default's section whole for that tenant; sections not given are inherited.
    pub tenants: BTreeMap<String, TenantGuardrailConfig>,
}

/// `[guardrails.injection]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InjectionConfig {
    pub enabled: bool,
    /// `block` (default) or `flag`.
    pub action: Action,
    /// Score at or above which a prompt is an injection, in `(0, 1]`.
    pub threshold: f32,
    /// Scan request messages (user, tool and function roles).
    pub on_input: bool,
    /// Scan responses too (off by default: a model quoting an attack is not one).
    pub on_output: bool,
}

impl Default for InjectionConfig {
    fn default() -> Self {
        InjectionConfig {
            enabled: true,
            action: Action::Block,
            threshold: DEFAULT_THRESHOLD,
            on_input: true,
            on_output: false,
        }
    }
}

/// `[guardrails.pii]`: PII and secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PiiConfig {
    pub enabled: bool,
    /// Action for PII entities not listed in `entities` (default `redact`).
    pub default_action: Action,
    /// Action for secret entities not listed in `entities` (default `block`).
    pub secrets_action: Action,
    /// Per-entity actions, e.g. `{ email = "flag", ip_address = "allow" }`. Keys are entity
    /// names (`email`, `phone`, `credit_card`, `iban`, `ssn`, `ip_address`,
    /// `openai_api_key`, `anthropic_api_key`, `google_api_key`, `github_token`,
    /// `slack_token`, `stripe_secret_key`, `aws_access_key`, `aws_secret_key`,
    /// `private_key`, `jwt`); `allow` switches one entity off.
    pub entities: BTreeMap<String, Action>,
    pub on_input: bool,
    pub on_output: bool,
}

impl Default for PiiConfig {
    fn default() -> Self {
        PiiConfig {
            enabled: true,
            default_action: Action::Redact,
            secrets_action: Action::Block,
            entities: BTreeMap::new(),
            on_input: true,
            on_output: true,
        }
    }
}

/// `[guardrails.moderation]`: term lists per category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModerationConfig {
    pub enabled: bool,
    /// Category name (lower-case letters, digits, `_`) -> terms and action.
    pub categories: BTreeMap<String, ModerationCategory>,
    pub on_input: bool,
    pub on_output: bool,
}

impl Default for ModerationConfig {
    fn default() -> Self {
        ModerationConfig {
            enabled: true,
            categories: BTreeMap::new(),
            on_input: true,
            on_output: true,
        }
    }
}

/// `[guardrails.moderation.categories.<name>]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationCategory {
    /// Words or phrases, matched on whole normalised words (case, width, accents and
    /// look-alike letters do not matter; `"kill"` does not match `"skill"`).
    pub terms: Vec<String>,
    /// Default `block`.
    #[serde(default = "block")]
    pub action: Action,
}

fn block() -> Action {
    Action::Block
}

/// `[guardrails.stream]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamConfig {
    /// Bytes of streamed text held back so that a match spanning chunks is caught before any
    /// of it is released (16..=65536; default 256, longer than every token-shaped secret).
    pub window_bytes: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig { window_bytes: 256 }
    }
}

/// `[guardrails.tenants.<id>]`: sections that replace the default's for one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TenantGuardrailConfig {
    pub injection: Option<InjectionConfig>,
    pub pii: Option<PiiConfig>,
    pub moderation: Option<ModerationConfig>,
    pub stream: Option<StreamConfig>,
}

impl GuardrailConfig {
    /// The effective policy of `tenant`: the default with that tenant's sections swapped in
    /// (and no `tenants` map).
    pub fn for_tenant(&self, tenant: &str) -> GuardrailConfig {
        let o = self.tenants.get(tenant);
        GuardrailConfig {
            injection: o
                .and_then(|t| t.injection.as_ref())
                .unwrap_or(&self.injection)
                .clone(),
            pii: o.and_then(|t| t.pii.as_ref()).unwrap_or(&self.pii).clone(),
            moderation: o
                .and_then(|t| t.moderation.as_ref())
                .unwrap_or(&self.moderation)
                .clone(),
            stream: o
                .and_then(|t| t.stream.as_ref())
                .unwrap_or(&self.stream)
                .clone(),
            moderation_api: self.moderation_api.clone(),
            tenants: BTreeMap::new(),
        }
    }

    /// Every problem of the section, each with its dotted key path
    /// (`guardrails.injection.threshold`, `guardrails.tenants.acme.pii.entities.fax`, ...).
    /// Empty when the configuration is valid.
    pub fn validate(&self) -> Vec<(String, String)> {
        crate::guardrails::config_validate::validate(self)
    }
}
