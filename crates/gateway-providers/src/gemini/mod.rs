//! The Google Gemini API provider (Generative Language API, `v1beta`):
//! `models/{model}:generateContent`, `:streamGenerateContent?alt=sse`, `:embedContent` and
//! `:batchEmbedContents`. The API key travels in the `x-goog-api-key` header, never in the URL
//! (URLs end up in logs and traces).

pub mod embeddings;
pub mod error;
pub mod request;
pub mod response;
pub mod stream;

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{ChatRequest, ChatResponse, ChatStream, ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::codec::{Encoded, UpstreamEvents, VendorCodec};
use crate::http_provider::HttpProvider;
use crate::upstream_url::{UpstreamUrl, secret_header};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

/// Settings of one Gemini upstream.
#[derive(Debug, Clone)]
pub struct GeminiConfig {
    pub name: String,
    /// Default [`DEFAULT_BASE_URL`]; `/models/{model}:{method}` is appended.
    pub base_url: String,
    /// Sent as `x-goog-api-key`.
    pub api_key: Option<Secret<String>>,
    pub timeouts: Timeouts,
}

impl GeminiConfig {
    pub fn new(name: impl Into<String>, api_key: Option<Secret<String>>) -> Self {
        GeminiConfig {
            name: name.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key,
            timeouts: Timeouts::default(),
        }
    }
}

/// Gemini's wire format at per-model URLs under the base URL.
#[derive(Debug)]
pub struct GeminiCodec {
    /// The base URL; each call goes to a per-model path under `prefix`.
    base: UpstreamUrl,
    prefix: String,
}

/// A Gemini upstream.
pub type GeminiProvider = HttpProvider<GeminiCodec>;

/// `gemini-2.0-flash` or `models/gemini-2.0-flash` -> `gemini-2.0-flash`, refusing anything that
/// could change the URL's meaning.
fn model_id(model: &str) -> Result<&str, ProviderError> {
    let id = model.strip_prefix("models/").unwrap_or(model);
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(id)
    } else {
        Err(ProviderError::Unsupported(format!(
            "invalid Gemini model name '{model}'"
        )))
    }
}

impl GeminiProvider {
    pub fn new(config: GeminiConfig, client: HttpClient) -> Result<Self, ProviderError> {
        let mut headers = Vec::with_capacity(1);
        if let Some(key) = &config.api_key {
            headers.push(secret_header(&config.name, "x-goog-api-key", key.expose())?);
        }
        let base = UpstreamUrl::new(config.base_url.trim_end_matches('/'), headers)?;
        let prefix = base.path().trim_end_matches('/').to_owned();
        let codec = GeminiCodec { base, prefix };
        Ok(HttpProvider::from_codec(
            config.name,
            codec,
            client,
            config.timeouts,
        ))
    }
}

impl GeminiCodec {
    fn url(&self, model: &str, method: &str, query: &str) -> Result<UpstreamUrl, ProviderError> {
        let id = model_id(model)?;
        self.base
            .with_path(&format!("{}/models/{id}:{method}{query}", self.prefix))
    }
}

impl VendorCodec for GeminiCodec {
    fn encode_chat(&self, req: &ChatRequest, stream: bool) -> Result<Encoded<'_>, ProviderError> {
        let url = if stream {
            self.url(&req.model, "streamGenerateContent", "?alt=sse")?
        } else {
            self.url(&req.model, "generateContent", "")?
        };
        Ok(Encoded::to_owned_url(url, request::encode(req)?))
    }

    fn decode_chat(&self, req: &ChatRequest, body: &[u8]) -> Result<ChatResponse, ProviderError> {
        response::decode(body, &req.model)
    }

    fn decode_stream(&self, req: &ChatRequest, events: UpstreamEvents) -> ChatStream {
        let usage = req.wants_stream_usage();
        events.decode(stream::StreamDecoder::new(
            &req.model,
            usage,
            response::unix_now(),
        ))
    }

    fn decode_error(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> ProviderError {
        error::error_from_response(status, headers, body)
    }

    fn unsupported_params(&self, req: &ChatRequest) -> Vec<&'static str> {
        request::unsupported_params(req)
    }

    fn encode_embeddings(
        &self,
        req: &EmbeddingsRequest,
    ) -> Result<Option<Encoded<'_>>, ProviderError> {
        let id = model_id(&req.model)?;
        let (method, body) = embeddings::encode(req, id)?;
        let url = self.url(id, method.as_str(), "")?;
        Ok(Some(Encoded::to_owned_url(url, body)))
    }

    fn decode_embeddings(
        &self,
        req: &EmbeddingsRequest,
        body: &[u8],
    ) -> Result<EmbeddingsResponse, ProviderError> {
        embeddings::decode(body, embeddings::Method::of(req), req)
    }

    fn models_url(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        let path = format!("{}/models?pageSize=1000", self.prefix);
        self.base.with_path(&path).map(Cow::Owned)
    }

    fn decode_models(&self, provider: &str, body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
        response::decode_models(provider, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_cannot_escape_the_path() {
        assert_eq!(
            model_id("models/gemini-2.5-flash").unwrap(),
            "gemini-2.5-flash"
        );
        for bad in ["", "a/b", "x?key=1", "../y", "m#f"] {
            assert!(model_id(bad).is_err(), "{bad}");
        }
    }
}
