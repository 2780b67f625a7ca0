//! The Google Gemini API provider (Generative Language API, `v1beta`):
//! `models/{model}:generateContent`, `:streamGenerateContent?alt=sse`, `:embedContent` and
//! `:batchEmbedContents`. The API key travels in the `x-goog-api-key` header, never in the URL
//! (URLs end up in logs and traces).

pub mod embeddings;
pub mod error;
pub mod request;
pub mod response;
pub mod stream;

use async_trait::async_trait;
use serde::Deserialize;

use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{ChatRequest, ChatResponse, ChatStream, Provider, ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::endpoint::Endpoint;
use crate::headers::header;
use crate::vendor_stream::decode_body;
use error::error_from_response;

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

pub struct GeminiProvider {
    name: String,
    /// The base URL; each call goes to a per-model path under `prefix`.
    base: Endpoint,
    prefix: String,
    client: HttpClient,
    timeouts: Timeouts,
}

impl std::fmt::Debug for GeminiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiProvider")
            .field("name", &self.name)
            .field("base", &self.base.uri)
            .finish_non_exhaustive()
    }
}

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
            let (name, mut value) = header(&config.name, "x-goog-api-key", key.expose())?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        let base = Endpoint::new(config.base_url.trim_end_matches('/'), headers)?;
        let prefix = base.path().trim_end_matches('/').to_owned();
        Ok(GeminiProvider {
            name: config.name,
            base,
            prefix,
            client,
            timeouts: config.timeouts,
        })
    }

    fn endpoint(&self, model: &str, method: &str, query: &str) -> Result<Endpoint, ProviderError> {
        let id = model_id(model)?;
        self.base
            .with_path(&format!("{}/models/{id}:{method}{query}", self.prefix))
    }
}

#[async_trait]
impl Provider for GeminiProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let endpoint = self.endpoint(&req.model, "generateContent", "")?;
        let body = request::encode(req)?;
        let bytes = endpoint
            .post_json(&self.client, body, &self.timeouts, error_from_response)
            .await?;
        response::decode(&bytes, &req.model)
    }

    async fn chat_stream(&self, req: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let endpoint = self.endpoint(&req.model, "streamGenerateContent", "?alt=sse")?;
        let body = request::encode(req)?;
        let resp = endpoint
            .post_stream(&self.client, body, &self.timeouts, error_from_response)
            .await?;
        let decoder =
            stream::StreamDecoder::new(&req.model, req.wants_stream_usage(), response::unix_now());
        Ok(decode_body(
            resp.into_body(),
            self.timeouts.stream(),
            decoder,
        ))
    }

    async fn embeddings(
        &self,
        req: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, ProviderError> {
        let id = model_id(&req.model)?;
        let (method, body) = embeddings::encode(req, id)?;
        let endpoint = self.endpoint(id, method.as_str(), "")?;
        let bytes = endpoint
            .post_json(&self.client, body, &self.timeouts, error_from_response)
            .await?;
        embeddings::decode(&bytes, method, req)
    }

    async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        #[derive(Deserialize)]
        struct List {
            #[serde(default)]
            models: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            name: String,
        }
        let endpoint = self
            .base
            .with_path(&format!("{}/models?pageSize=1000", self.prefix))?;
        let bytes = endpoint
            .get(&self.client, &self.timeouts, error_from_response)
            .await?;
        let list: List = serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::InvalidResponse(format!("gemini model list: {e}")))?;
        Ok(list
            .models
            .into_iter()
            .map(|m| {
                ModelInfo::new(
                    m.name.strip_prefix("models/").unwrap_or(&m.name),
                    self.name.clone(),
                )
            })
            .collect())
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
