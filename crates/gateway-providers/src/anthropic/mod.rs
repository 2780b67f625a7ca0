//! The Anthropic Messages API provider (`POST /v1/messages`, JSON and SSE).
//!
//! Translation lives in [`request`] (canonical -> Anthropic), [`response`] (message ->
//! canonical), [`stream`] (events -> chunks) and [`error`] (error bodies); they are public so
//! that tests and embedders can use them without HTTP.

pub mod error;
pub mod request;
pub mod response;
pub mod stream;

use async_trait::async_trait;
use serde::Deserialize;

use gateway_core::types::ModelInfo;
use gateway_core::{ChatRequest, ChatResponse, ChatStream, Provider, ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::endpoint::Endpoint;
use crate::headers::header;
use crate::vendor_stream::decode_body;
use error::error_from_response;

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const DEFAULT_VERSION: &str = "2023-06-01";
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Settings of one Anthropic upstream.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    pub name: String,
    /// Default [`DEFAULT_BASE_URL`]; `/v1/messages` is appended (a trailing `/v1` is accepted).
    pub base_url: String,
    /// Sent as `x-api-key`.
    pub api_key: Option<Secret<String>>,
    /// The `anthropic-version` header; default [`DEFAULT_VERSION`].
    pub version: String,
    /// `max_tokens` when the caller sets none (Anthropic requires it); default 4096.
    pub default_max_tokens: u32,
    pub timeouts: Timeouts,
    /// Extra headers sent upstream (e.g. `anthropic-beta`).
    pub headers: Vec<(String, String)>,
}

impl AnthropicConfig {
    /// The defaults for api.anthropic.com with this key.
    pub fn new(name: impl Into<String>, api_key: Option<Secret<String>>) -> Self {
        AnthropicConfig {
            name: name.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key,
            version: DEFAULT_VERSION.to_owned(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
            timeouts: Timeouts::default(),
            headers: Vec::new(),
        }
    }
}

pub struct AnthropicProvider {
    name: String,
    messages: Endpoint,
    models: Endpoint,
    client: HttpClient,
    timeouts: Timeouts,
    default_max_tokens: u32,
}

impl std::fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("name", &self.name)
            .field("messages", &self.messages.uri)
            .finish_non_exhaustive()
    }
}

impl AnthropicProvider {
    pub fn new(config: AnthropicConfig, client: HttpClient) -> Result<Self, ProviderError> {
        let base = config.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        let mut headers = Vec::with_capacity(config.headers.len() + 2);
        if let Some(key) = &config.api_key {
            let (name, mut value) = header(&config.name, "x-api-key", key.expose())?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        headers.push(header(&config.name, "anthropic-version", &config.version)?);
        for (name, value) in &config.headers {
            headers.push(header(&config.name, name, value)?);
        }
        Ok(AnthropicProvider {
            messages: Endpoint::new(&format!("{base}/v1/messages"), headers.clone())?,
            models: Endpoint::new(&format!("{base}/v1/models?limit=1000"), headers)?,
            name: config.name,
            client,
            timeouts: config.timeouts,
            default_max_tokens: config.default_max_tokens,
        })
    }
}

#[async_trait]
impl Provider for AnthropicProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let body = request::encode(req, self.default_max_tokens, false)?;
        let bytes = self
            .messages
            .post_json(&self.client, body, &self.timeouts, error_from_response)
            .await?;
        response::decode(&bytes)
    }

    async fn chat_stream(&self, req: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let body = request::encode(req, self.default_max_tokens, true)?;
        let resp = self
            .messages
            .post_stream(&self.client, body, &self.timeouts, error_from_response)
            .await?;
        let decoder = stream::StreamDecoder::new(req.wants_stream_usage(), response::unix_now());
        Ok(decode_body(
            resp.into_body(),
            self.timeouts.stream(),
            decoder,
        ))
    }

    async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        #[derive(Deserialize)]
        struct List {
            data: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            id: String,
        }
        let bytes = self
            .models
            .get(&self.client, &self.timeouts, error_from_response)
            .await?;
        let list: List = serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::InvalidResponse(format!("anthropic model list: {e}")))?;
        Ok(list
            .data
            .into_iter()
            .map(|m| ModelInfo::new(m.id, self.name.clone()))
            .collect())
    }
}
