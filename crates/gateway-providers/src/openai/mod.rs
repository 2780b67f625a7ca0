//! The OpenAI-compatible provider: OpenAI itself and every server speaking its wire format
//! (Groq, OpenRouter, Together, Mistral, DeepSeek, vLLM, Ollama, LM Studio...). Requests and
//! responses are already in the canonical shape, so translation is nearly a pass-through.

mod error;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod stream;

use async_trait::async_trait;
use http::HeaderValue;

use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{ChatRequest, ChatResponse, ChatStream, Provider, ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::endpoint::Endpoint;

pub(crate) use error::error_from_response;

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
}

pub struct OpenAiProvider {
    name: String,
    chat: Endpoint,
    embeddings: Endpoint,
    models: Endpoint,
    client: HttpClient,
    timeouts: Timeouts,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("name", &self.name)
            .field("chat", &self.chat.uri)
            .finish_non_exhaustive()
    }
}

impl OpenAiProvider {
    pub fn new(config: OpenAiConfig, client: HttpClient) -> Result<Self, ProviderError> {
        let base = config.base_url.trim_end_matches('/');
        let mut headers = Vec::with_capacity(config.headers.len() + 1);
        if let Some(key) = &config.api_key {
            let mut value =
                HeaderValue::try_from(format!("Bearer {}", key.expose())).map_err(|_| {
                    ProviderError::Unsupported(format!(
                        "provider '{}': API key is not a valid header",
                        config.name
                    ))
                })?;
            value.set_sensitive(true);
            headers.push((http::header::AUTHORIZATION, value));
        }
        for (name, value) in &config.headers {
            let name = http::HeaderName::try_from(name.as_str()).map_err(|_| {
                ProviderError::Unsupported(format!(
                    "provider '{}': bad header name '{name}'",
                    config.name
                ))
            })?;
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| {
                ProviderError::Unsupported(format!(
                    "provider '{}': bad value for header '{name}'",
                    config.name
                ))
            })?;
            headers.push((name, value));
        }
        let endpoint = |path: &str| Endpoint::new(&format!("{base}{path}"), headers.clone());
        Ok(OpenAiProvider {
            chat: endpoint("/chat/completions")?,
            embeddings: endpoint("/embeddings")?,
            models: endpoint("/models")?,
            name: config.name,
            client,
            timeouts: config.timeouts,
        })
    }
}

#[async_trait]
impl Provider for OpenAiProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let body = request::encode(req)?;
        let bytes = self
            .chat
            .post_json(&self.client, body, &self.timeouts, error_from_response)
            .await?;
        response::decode_chat(&bytes)
    }

    async fn chat_stream(&self, req: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let body = request::encode(req)?;
        let resp = self
            .chat
            .post_stream(&self.client, body, &self.timeouts, error_from_response)
            .await?;
        Ok(stream::decode(resp.into_body(), self.timeouts.stream()))
    }

    async fn embeddings(
        &self,
        req: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, ProviderError> {
        let body = serde_json::to_vec(req)
            .map_err(|e| ProviderError::Unsupported(format!("cannot encode request: {e}")))?;
        let bytes = self
            .embeddings
            .post_json(
                &self.client,
                body.into(),
                &self.timeouts,
                error_from_response,
            )
            .await?;
        response::decode_embeddings(&bytes)
    }

    async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let bytes = self
            .models
            .get(&self.client, &self.timeouts, error_from_response)
            .await?;
        response::decode_models(&bytes)
    }
}
