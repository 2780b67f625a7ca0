//! The Anthropic Messages API provider (`POST /v1/messages`, JSON and SSE).
//!
//! Translation lives in [`request`] (canonical -> Anthropic), [`features`] (structured output,
//! reasoning effort, unsupported parameters), [`response`] (message -> canonical), [`stream`]
//! (events -> chunks) and [`error`] (error bodies); they are public so that tests and
//! embedders can use them without HTTP.

pub mod error;
pub mod features;
pub mod request;
pub mod response;
pub mod stream;

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use gateway_core::types::ModelInfo;
use gateway_core::{ChatRequest, ChatResponse, ChatStream, ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::codec::{Encoded, UpstreamEvents, VendorCodec};
use crate::headers::header;
use crate::http_provider::HttpProvider;
use crate::upstream_url::{UpstreamUrl, secret_header};

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

/// Anthropic's Messages API at `{base_url}/v1/messages`.
#[derive(Debug)]
pub struct AnthropicCodec {
    messages: UpstreamUrl,
    models: UpstreamUrl,
    default_max_tokens: u32,
}

/// An Anthropic upstream.
pub type AnthropicProvider = HttpProvider<AnthropicCodec>;

impl AnthropicProvider {
    pub fn new(config: AnthropicConfig, client: HttpClient) -> Result<Self, ProviderError> {
        let base = config.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        let mut headers = Vec::with_capacity(config.headers.len() + 2);
        if let Some(key) = &config.api_key {
            headers.push(secret_header(&config.name, "x-api-key", key.expose())?);
        }
        headers.push(header(&config.name, "anthropic-version", &config.version)?);
        for (name, value) in &config.headers {
            headers.push(header(&config.name, name, value)?);
        }
        let codec = AnthropicCodec {
            messages: UpstreamUrl::new(&format!("{base}/v1/messages"), headers.clone())?,
            models: UpstreamUrl::new(&format!("{base}/v1/models?limit=1000"), headers)?,
            default_max_tokens: config.default_max_tokens,
        };
        Ok(HttpProvider::from_codec(
            config.name,
            codec,
            client,
            config.timeouts,
        ))
    }
}

impl VendorCodec for AnthropicCodec {
    fn encode_chat(&self, req: &ChatRequest, stream: bool) -> Result<Encoded<'_>, ProviderError> {
        let body = request::encode(req, self.default_max_tokens, stream)?;
        Ok(Encoded::to(&self.messages, body))
    }

    fn decode_chat(&self, req: &ChatRequest, body: &[u8]) -> Result<ChatResponse, ProviderError> {
        response::decode(body, features::structured_tool(req))
    }

    fn decode_stream(&self, req: &ChatRequest, events: UpstreamEvents) -> ChatStream {
        events.decode(
            stream::StreamDecoder::new(req.wants_stream_usage(), response::unix_now())
                .with_structured_tool(features::structured_tool(req)),
        )
    }

    fn unsupported_params(&self, req: &ChatRequest) -> Vec<&'static str> {
        features::unsupported_params(req)
    }

    fn decode_error(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> ProviderError {
        error::error_from_response(status, headers, body)
    }

    fn models_url(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        Ok(Cow::Borrowed(&self.models))
    }

    fn decode_models(&self, provider: &str, body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
        response::decode_models(provider, body)
    }
}
