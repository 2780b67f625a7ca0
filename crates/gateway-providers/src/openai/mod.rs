//! The OpenAI-compatible provider: OpenAI itself and every server speaking its wire format
//! (Groq, OpenRouter, Together, Mistral, DeepSeek, vLLM, Ollama, LM Studio...). Requests and
//! responses are already in the canonical shape, so translation is nearly a pass-through.
//! [`presets`] names the common ones (`kind = "groq"`) with their URLs and headers.

mod error;
mod foreign;
pub mod presets;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod stream;

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{ChatRequest, ChatResponse, ChatStream, ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::codec::{Encoded, UpstreamEvents, VendorCodec};
use crate::headers::header;
use crate::http_provider::HttpProvider;
use crate::upstream_url::{UpstreamUrl, secret_header};

use error::error_from_response;
pub use foreign::{FOREIGN as FOREIGN_FIELDS, Passthrough};

/// Settings of one OpenAI-compatible upstream.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub name: String,
    /// e.g. `https://api.openai.com/v1` (the `/chat/completions` path is appended).
    pub base_url: String,
    pub api_key: Option<Secret<String>>,
    pub timeouts: Timeouts,
    /// Extra headers sent upstream (e.g. OpenRouter's `HTTP-Referer`).
    pub headers: Vec<(String, String)>,
    /// Other vendors' fields this server accepts and gets verbatim (`top_k` for vLLM...).
    pub passthrough: Passthrough,
}

/// Where an OpenAI-format upstream takes each call: fixed URLs under a base (OpenAI and the
/// compatible servers), or per-deployment URLs (Azure).
pub trait OpenAiRoutes: std::fmt::Debug + Send + Sync + 'static {
    fn chat(&self, model: &str) -> Result<Cow<'_, UpstreamUrl>, ProviderError>;
    fn embeddings(&self, model: &str) -> Result<Cow<'_, UpstreamUrl>, ProviderError>;
    fn models(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError>;
}

/// `{base_url}/chat/completions`, `/embeddings` and `/models`.
#[derive(Debug)]
pub struct BaseUrlRoutes {
    chat: UpstreamUrl,
    embeddings: UpstreamUrl,
    models: UpstreamUrl,
}

impl OpenAiRoutes for BaseUrlRoutes {
    fn chat(&self, _model: &str) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        Ok(Cow::Borrowed(&self.chat))
    }

    fn embeddings(&self, _model: &str) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        Ok(Cow::Borrowed(&self.embeddings))
    }

    fn models(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        Ok(Cow::Borrowed(&self.models))
    }
}

/// OpenAI's wire format at the URLs of `R`.
#[derive(Debug)]
pub struct OpenAiCodec<R = BaseUrlRoutes> {
    routes: R,
    passthrough: Passthrough,
}

impl<R> OpenAiCodec<R> {
    /// OpenAI's own rules: every other vendor's field is translated or left out.
    pub fn new(routes: R) -> Self {
        OpenAiCodec {
            routes,
            passthrough: Passthrough::default(),
        }
    }

    /// Sends the fields of `passthrough` verbatim instead of leaving them out.
    pub fn with_passthrough(mut self, passthrough: Passthrough) -> Self {
        self.passthrough = passthrough;
        self
    }

    pub fn routes(&self) -> &R {
        &self.routes
    }
}

/// An OpenAI-compatible upstream.
pub type OpenAiProvider = HttpProvider<OpenAiCodec>;

impl OpenAiProvider {
    pub fn new(config: OpenAiConfig, client: HttpClient) -> Result<Self, ProviderError> {
        let base = config.base_url.trim_end_matches('/');
        let mut headers = Vec::with_capacity(config.headers.len() + 1);
        if let Some(key) = &config.api_key {
            let bearer = format!("Bearer {}", key.expose());
            headers.push(secret_header(&config.name, "authorization", &bearer)?);
        }
        for (name, value) in &config.headers {
            headers.push(header(&config.name, name, value)?);
        }
        let url = |path: &str| UpstreamUrl::new(&format!("{base}{path}"), headers.clone());
        let routes = BaseUrlRoutes {
            chat: url("/chat/completions")?,
            embeddings: url("/embeddings")?,
            models: url("/models")?,
        };
        Ok(HttpProvider::from_codec(
            config.name,
            OpenAiCodec::new(routes).with_passthrough(config.passthrough),
            client,
            config.timeouts,
        ))
    }
}

impl<R: OpenAiRoutes> VendorCodec for OpenAiCodec<R> {
    fn encode_chat(&self, req: &ChatRequest, _stream: bool) -> Result<Encoded<'_>, ProviderError> {
        let url = self.routes.chat(&req.model)?;
        Ok(Encoded {
            url,
            body: request::encode(req, &self.passthrough)?,
        })
    }

    fn decode_chat(&self, _req: &ChatRequest, body: &[u8]) -> Result<ChatResponse, ProviderError> {
        response::decode_chat(body)
    }

    fn decode_stream(&self, _req: &ChatRequest, events: UpstreamEvents) -> ChatStream {
        stream::decode(events.body, events.limits)
    }

    fn unsupported_params(&self, req: &ChatRequest) -> Vec<&'static str> {
        foreign::unsupported_params(req, &self.passthrough)
    }

    fn decode_error(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> ProviderError {
        error_from_response(status, headers, body)
    }

    fn encode_embeddings(
        &self,
        req: &EmbeddingsRequest,
    ) -> Result<Option<Encoded<'_>>, ProviderError> {
        let url = self.routes.embeddings(&req.model)?;
        Ok(Some(Encoded {
            url,
            body: request::encode_embeddings(req)?,
        }))
    }

    fn decode_embeddings(
        &self,
        req: &EmbeddingsRequest,
        body: &[u8],
    ) -> Result<EmbeddingsResponse, ProviderError> {
        let mut resp = response::decode_embeddings(body)?;
        crate::embedding_format::conform(&mut resp, req.encoding_format.as_deref())?;
        Ok(resp)
    }

    fn models_url(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        self.routes.models()
    }

    fn decode_models(&self, _provider: &str, body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
        response::decode_models(body)
    }
}
