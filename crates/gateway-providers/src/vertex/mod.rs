//! Google Vertex AI: Gemini models (the [`crate::gemini`] codec at
//! `{base}/projects/P/locations/L/publishers/google/models/M:generateContent` and
//! `:streamGenerateContent?alt=sse`) and Anthropic's Claude models (the [`crate::anthropic`]
//! codec at `.../publishers/anthropic/models/M:rawPredict` and `:streamRawPredict`, the body
//! without `model` and with `anthropic_version: vertex-2023-10-16`). The publisher follows the
//! model name (`claude-*` is Anthropic's). Calls carry a service account's access token
//! ([`token`]).

pub mod token;

use std::borrow::Cow;

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use gateway_core::types::ModelInfo;
use gateway_core::{ChatRequest, ChatResponse, ChatStream, ProviderError};

use crate::client::{HttpClient, Timeouts};
use crate::codec::{AuthorizeFuture, Encoded, UpstreamEvents, VendorCodec};
use crate::http_provider::HttpProvider;
use crate::upstream_url::UpstreamUrl;
use crate::{anthropic, gemini};

pub use token::{ServiceAccountKey, TokenSource};

/// The `anthropic_version` Claude on Vertex takes in the body.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// The regional endpoint of `location` (`global` has none of its own).
pub fn default_base_url(location: &str) -> String {
    if location == "global" {
        "https://aiplatform.googleapis.com/v1".to_owned()
    } else {
        format!("https://{location}-aiplatform.googleapis.com/v1")
    }
}

/// Settings of one Vertex AI upstream.
#[derive(Debug, Clone)]
pub struct VertexConfig {
    pub name: String,
    /// Default: the key's `project_id`.
    pub project: String,
    /// `us-central1`, `europe-west4`, `global`...
    pub location: String,
    /// Default: [`default_base_url`] of the location.
    pub base_url: Option<String>,
    pub key: ServiceAccountKey,
    pub timeouts: Timeouts,
}

/// Vertex's URLs over the Gemini and Anthropic codecs, with a service account's token.
#[derive(Debug)]
pub struct VertexCodec {
    base: UpstreamUrl,
    /// `{path}/projects/P/locations/L/publishers`.
    publishers: String,
    tokens: TokenSource,
}

/// A Vertex AI upstream.
pub type VertexProvider = HttpProvider<VertexCodec>;

fn path_safe(what: &str, s: &str) -> Result<(), ProviderError> {
    let ok = !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(ProviderError::Unsupported(format!(
            "invalid Vertex {what} '{s}'"
        )))
    }
}

fn is_claude(model: &str) -> bool {
    model.starts_with("claude")
}

impl VertexProvider {
    pub fn new(config: VertexConfig, client: HttpClient) -> Result<Self, ProviderError> {
        path_safe("project", &config.project)?;
        path_safe("location", &config.location)?;
        let base_url = config
            .base_url
            .clone()
            .unwrap_or_else(|| default_base_url(&config.location));
        let base = UpstreamUrl::new(base_url.trim_end_matches('/'), Vec::new())?;
        let publishers = format!(
            "{}/projects/{}/locations/{}/publishers",
            base.path().trim_end_matches('/'),
            config.project,
            config.location
        );
        let tokens = TokenSource::new(config.key, client.clone(), config.timeouts)?;
        let codec = VertexCodec {
            base,
            publishers,
            tokens,
        };
        Ok(HttpProvider::from_codec(
            config.name,
            codec,
            client,
            config.timeouts,
        ))
    }
}

impl VertexCodec {
    fn url(&self, model: &str, method: &str) -> Result<UpstreamUrl, ProviderError> {
        let id = model.strip_prefix("models/").unwrap_or(model);
        path_safe("model", id)?;
        let publisher = if is_claude(id) { "anthropic" } else { "google" };
        self.base.with_path(&format!(
            "{}/{publisher}/models/{id}:{method}",
            self.publishers
        ))
    }

    pub fn tokens(&self) -> &TokenSource {
        &self.tokens
    }
}

/// Anthropic's Messages body as Claude on Vertex takes it.
fn vertex_anthropic_body(req: &ChatRequest, stream: bool) -> Result<Bytes, ProviderError> {
    let body = anthropic::request::encode(req, anthropic::DEFAULT_MAX_TOKENS, stream)?;
    let mut value: Value = serde_json::from_slice(&body)
        .map_err(|e| ProviderError::Unsupported(format!("cannot encode request: {e}")))?;
    if let Some(obj) = value.as_object_mut() {
        obj.remove("model");
        obj.insert(
            "anthropic_version".into(),
            Value::String(ANTHROPIC_VERSION.to_owned()),
        );
    }
    serde_json::to_vec(&value)
        .map(Bytes::from)
        .map_err(|e| ProviderError::Unsupported(format!("cannot encode request: {e}")))
}

impl VendorCodec for VertexCodec {
    fn encode_chat(&self, req: &ChatRequest, stream: bool) -> Result<Encoded<'_>, ProviderError> {
        let (url, body) = match (is_claude(&req.model), stream) {
            (true, false) => (
                self.url(&req.model, "rawPredict")?,
                vertex_anthropic_body(req, false)?,
            ),
            (true, true) => (
                self.url(&req.model, "streamRawPredict")?,
                vertex_anthropic_body(req, true)?,
            ),
            (false, false) => (
                self.url(&req.model, "generateContent")?,
                gemini::request::encode(req)?,
            ),
            (false, true) => (
                self.url(&req.model, "streamGenerateContent?alt=sse")?,
                gemini::request::encode(req)?,
            ),
        };
        Ok(Encoded::to_owned_url(url, body))
    }

    fn decode_chat(&self, req: &ChatRequest, body: &[u8]) -> Result<ChatResponse, ProviderError> {
        if is_claude(&req.model) {
            anthropic::response::decode(body, anthropic::features::structured_tool(req))
        } else {
            gemini::response::decode(body, &req.model)
        }
    }

    fn decode_stream(&self, req: &ChatRequest, events: UpstreamEvents) -> ChatStream {
        let created = anthropic::response::unix_now();
        if is_claude(&req.model) {
            events.decode(
                anthropic::stream::StreamDecoder::new(req.wants_stream_usage(), created)
                    .with_structured_tool(anthropic::features::structured_tool(req)),
            )
        } else {
            events.decode(gemini::stream::StreamDecoder::new(
                &req.model,
                req.wants_stream_usage(),
                created,
            ))
        }
    }

    /// Vertex answers errors in Google's shape (`{"error": {"code", "message", "status"}}`),
    /// Claude's own errors in Anthropic's.
    fn decode_error(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> ProviderError {
        let anthropic_shaped = serde_json::from_slice::<Value>(body)
            .is_ok_and(|v| v["type"] == "error" && v["error"]["type"].is_string());
        if anthropic_shaped {
            anthropic::error::error_from_response(status, headers, body)
        } else {
            gemini::error::error_from_response(status, headers, body)
        }
    }

    fn unsupported_params(&self, req: &ChatRequest) -> Vec<&'static str> {
        if is_claude(&req.model) {
            anthropic::features::unsupported_params(req)
        } else {
            gemini::request::unsupported_params(req)
        }
    }

    /// Google's publisher models.
    fn models_url(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        let path = format!("{}/google/models", self.publishers);
        self.base.with_path(&path).map(Cow::Owned)
    }

    fn decode_models(&self, provider: &str, body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct List {
            #[serde(default)]
            publisher_models: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            name: String,
        }
        let list: List = serde_json::from_slice(body)
            .map_err(|e| ProviderError::InvalidResponse(format!("vertex model list: {e}")))?;
        Ok(list
            .publisher_models
            .into_iter()
            .map(|m| {
                let id = m.name.rsplit('/').next().unwrap_or_default().to_owned();
                ModelInfo::new(id, provider)
            })
            .collect())
    }

    /// The service account's access token (cached, refreshed before it expires).
    fn authorize<'a>(&'a self, _call: &'a Encoded<'_>) -> Option<AuthorizeFuture<'a>> {
        Some(Box::pin(async move {
            Ok(vec![(AUTHORIZATION, self.tokens.authorization().await?)])
        }))
    }
}
