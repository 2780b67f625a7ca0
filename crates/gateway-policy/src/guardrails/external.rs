//! The optional external moderation provider: a service speaking OpenAI's `/v1/moderations`
//! format (`{"input": [...], "model"?}` -> `{"results": [{"flagged", "categories",
//! "category_scores"}]}`), asked about the text of each request after the guardrails have
//! redacted it. The HTTP call itself is behind [`ModerationTransport`], which the application
//! implements over its own client, so this crate stays free of network code.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use gateway_core::phases::guard::{AsyncGuardrail, GuardAction, GuardFinding, GuardOutcome};
use gateway_core::types::ChatRequest;
use gateway_core::{GatewayError, RequestContext, Secret};

use crate::guardrails::finding::Action;
use crate::guardrails::inspected::request_texts_ref;

/// `[guardrails.moderation_api]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationApiConfig {
    /// The endpoint, e.g. `https://api.openai.com/v1/moderations`.
    pub url: String,
    /// Sent as `Authorization: Bearer ...` (use `${VAR}`).
    #[serde(default, skip_serializing)]
    pub api_key: Option<Secret<String>>,
    /// The `model` field of the request, e.g. `omni-moderation-latest`; omitted when unset.
    #[serde(default)]
    pub model: Option<String>,
    /// Time allowed for the whole call.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Action for a flagged category not listed in `categories` (default `block`).
    #[serde(default = "block")]
    pub action: Action,
    /// Per-category actions, keyed by the provider's names (`harassment`, `violence/graphic`).
    #[serde(default)]
    pub categories: BTreeMap<String, Action>,
    /// When the service fails or times out: `block` (default; the request is refused with
    /// 503) or `allow` (the request goes on unmoderated, and a warning is logged).
    #[serde(default = "block")]
    pub on_error: Action,
}

fn default_timeout_ms() -> u64 {
    2000
}

fn block() -> Action {
    Action::Block
}

impl ModerationApiConfig {
    /// Problems with their dotted paths under `path`.
    pub fn problems(&self, path: &str) -> Vec<(String, String)> {
        let mut p = Vec::new();
        let scheme_ok = self.url.starts_with("https://") || self.url.starts_with("http://");
        if !scheme_ok || self.url.contains(char::is_whitespace) {
            p.push((
                format!("{path}.url"),
                "must be an http:// or https:// URL".into(),
            ));
        }
        if !(1..=60_000).contains(&self.timeout_ms) {
            p.push((format!("{path}.timeout_ms"), "must be in 1..=60000".into()));
        }
        if self.action == Action::Redact || self.categories.values().any(|a| *a == Action::Redact) {
            p.push((
                format!("{path}.action"),
                "redact is not supported for a moderation service; use block, flag or allow".into(),
            ));
        }
        if !matches!(self.on_error, Action::Block | Action::Allow) {
            p.push((format!("{path}.on_error"), "must be block or allow".into()));
        }
        p
    }
}

/// What [`ModerationTransport::post`] returns: the response status and body, or why the call
/// failed.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(u16, Vec<u8>), String>> + Send + 'a>>;

/// Sends one moderation request body (JSON) to the configured service.
pub trait ModerationTransport: Send + Sync {
    /// POST `body` to `config.url`, with `Authorization: Bearer <api_key>` when a key is set.
    fn post<'a>(&'a self, config: &'a ModerationApiConfig, body: Vec<u8>) -> TransportFuture<'a>;
}

#[derive(Deserialize)]
struct Response {
    results: Vec<ResultItem>,
}

#[derive(Deserialize)]
struct ResultItem {
    #[serde(default)]
    categories: BTreeMap<String, bool>,
    #[serde(default)]
    category_scores: BTreeMap<String, f64>,
}

/// The external moderation check, as a `gateway-core` [`AsyncGuardrail`].
pub struct ExternalModeration {
    config: ModerationApiConfig,
    transport: Arc<dyn ModerationTransport>,
}

impl std::fmt::Debug for ExternalModeration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalModeration")
            .field("url", &self.config.url)
            .finish_non_exhaustive()
    }
}

impl ExternalModeration {
    pub fn new(config: ModerationApiConfig, transport: Arc<dyn ModerationTransport>) -> Self {
        ExternalModeration { config, transport }
    }

    /// Asks the service about `texts`; the findings have offsets covering each whole text.
    pub async fn moderate(&self, texts: &[&str]) -> Result<GuardOutcome, String> {
        if texts.is_empty() {
            return Ok(GuardOutcome::allow());
        }
        let mut body = serde_json::json!({ "input": texts });
        if let Some(model) = &self.config.model {
            body["model"] = serde_json::Value::from(model.as_str());
        }
        let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        let timeout = Duration::from_millis(self.config.timeout_ms);
        let (status, bytes) =
            match tokio::time::timeout(timeout, self.transport.post(&self.config, body)).await {
                Err(_) => return Err(format!("no answer within {} ms", self.config.timeout_ms)),
                Ok(result) => result?,
            };
        if !(200..300).contains(&status) {
            return Err(format!("the service answered with status {status}"));
        }
        let response: Response = serde_json::from_slice(&bytes)
            .map_err(|e| format!("the answer is not a moderation response: {e}"))?;
        if response.results.len() != texts.len() {
            return Err(format!(
                "{} results for {} inputs",
                response.results.len(),
                texts.len()
            ));
        }
        let mut outcome = GuardOutcome::allow();
        for (item, text) in response.results.iter().zip(texts) {
            for (category, _) in item.categories.iter().filter(|(_, on)| **on) {
                let action = self
                    .config
                    .categories
                    .get(category)
                    .copied()
                    .unwrap_or(self.config.action);
                if action == Action::Allow {
                    continue;
                }
                let action: GuardAction = action.into();
                outcome.action = outcome.action.max(action);
                let finding = GuardFinding {
                    guardrail: "moderation".to_owned(),
                    category: category.clone(),
                    rule: "moderation_api".to_owned(),
                    score: item.category_scores.get(category).copied().unwrap_or(1.0) as f32,
                    start: 0,
                    end: text.len(),
                };
                // Blocking findings first, so that the 422 names one of them.
                if action == GuardAction::Block {
                    outcome.findings.insert(0, finding);
                } else {
                    outcome.findings.push(finding);
                }
            }
        }
        Ok(outcome)
    }
}

#[async_trait]
impl AsyncGuardrail for ExternalModeration {
    async fn check_request(
        &self,
        req: &ChatRequest,
        _ctx: &RequestContext,
    ) -> Result<GuardOutcome, GatewayError> {
        let mut texts: Vec<&str> = Vec::new();
        request_texts_ref(req, &mut |t| {
            if !t.trim().is_empty() {
                texts.push(t);
            }
        });
        match self.moderate(&texts).await {
            Ok(outcome) => Ok(outcome),
            Err(e) if self.config.on_error == Action::Allow => {
                tracing::warn!(error = %e, "moderation service failed; request allowed unmoderated");
                Ok(GuardOutcome::allow())
            }
            Err(e) => {
                tracing::warn!(error = %e, "moderation service failed; request refused");
                Err(GatewayError::Unavailable(
                    "The content moderation service is unavailable; try again later.".to_owned(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests;
