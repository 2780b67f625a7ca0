//! The Azure OpenAI provider. Azure speaks OpenAI's wire format (the OpenAI adapter's request,
//! response, stream and error code is reused) at per-deployment URLs:
//! `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}`, with
//! the key in the `api-key` header. A deployment's upstream model IS the Azure deployment name.

use async_trait::async_trait;

use gateway_core::types::{EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{ChatRequest, ChatResponse, ChatStream, Provider, ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::endpoint::Endpoint;
use crate::headers::header;
use crate::openai::{error_from_response, request, response, stream};

/// A generally available data-plane API version.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// Settings of one Azure OpenAI resource.
#[derive(Debug, Clone)]
pub struct AzureConfig {
    pub name: String,
    /// `https://{resource}.openai.azure.com`.
    pub endpoint: String,
    /// The `api-version` query parameter; default [`DEFAULT_API_VERSION`].
    pub api_version: String,
    /// Sent as `api-key`.
    pub api_key: Option<Secret<String>>,
    pub timeouts: Timeouts,
}

impl AzureConfig {
    pub fn new(
        name: impl Into<String>,
        endpoint: impl Into<String>,
        api_key: Option<Secret<String>>,
    ) -> Self {
        AzureConfig {
            name: name.into(),
            endpoint: endpoint.into(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            api_key,
            timeouts: Timeouts::default(),
        }
    }
}

pub struct AzureProvider {
    name: String,
    base: Endpoint,
    prefix: String,
    api_version: String,
    client: HttpClient,
    timeouts: Timeouts,
}

impl std::fmt::Debug for AzureProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureProvider")
            .field("name", &self.name)
            .field("endpoint", &self.base.uri)
            .finish_non_exhaustive()
    }
}

fn query_safe(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl AzureProvider {
    pub fn new(config: AzureConfig, client: HttpClient) -> Result<Self, ProviderError> {
        if !query_safe(&config.api_version) {
            return Err(ProviderError::Unsupported(format!(
                "provider '{}': invalid api_version '{}'",
                config.name, config.api_version
            )));
        }
        let mut headers = Vec::with_capacity(1);
        if let Some(key) = &config.api_key {
            let (name, mut value) = header(&config.name, "api-key", key.expose())?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        let base = Endpoint::new(config.endpoint.trim_end_matches('/'), headers)?;
        let prefix = base.path().trim_end_matches('/').to_owned();
        Ok(AzureProvider {
            name: config.name,
            base,
            prefix,
            api_version: config.api_version,
            client,
            timeouts: config.timeouts,
        })
    }

    /// `…/openai/deployments/{deployment}/{operation}?api-version=…`.
    fn deployment(&self, deployment: &str, operation: &str) -> Result<Endpoint, ProviderError> {
        if !query_safe(deployment) {
            return Err(ProviderError::Unsupported(format!(
                "invalid Azure deployment name '{deployment}'"
            )));
        }
        let path = format!(
            "{}/openai/deployments/{deployment}/{operation}?api-version={}",
            self.prefix, self.api_version
        );
        self.base.with_path(&path)
    }
}

#[async_trait]
impl Provider for AzureProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let endpoint = self.deployment(&req.model, "chat/completions")?;
        let body = request::encode(req)?;
        let bytes = endpoint
            .post_json(&self.client, body, &self.timeouts, error_from_response)
            .await?;
        response::decode_chat(&bytes)
    }

    async fn chat_stream(&self, req: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let endpoint = self.deployment(&req.model, "chat/completions")?;
        let body = request::encode(req)?;
        let resp = endpoint
            .post_stream(&self.client, body, &self.timeouts, error_from_response)
            .await?;
        Ok(stream::decode(resp.into_body(), self.timeouts.stream()))
    }

    async fn embeddings(
        &self,
        req: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, ProviderError> {
        let endpoint = self.deployment(&req.model, "embeddings")?;
        let body = serde_json::to_vec(req)
            .map_err(|e| ProviderError::Unsupported(format!("cannot encode request: {e}")))?;
        let bytes = endpoint
            .post_json(
                &self.client,
                body.into(),
                &self.timeouts,
                error_from_response,
            )
            .await?;
        response::decode_embeddings(&bytes)
    }

    /// The models the resource offers (not its deployments: those are the router's business).
    async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let endpoint = self.base.with_path(&format!(
            "{}/openai/models?api-version={}",
            self.prefix, self.api_version
        ))?;
        let bytes = endpoint
            .get(&self.client, &self.timeouts, error_from_response)
            .await?;
        response::decode_models(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_urls_and_validation() {
        let client = HttpClient::new(std::time::Duration::from_secs(1)).unwrap();
        let p = AzureProvider::new(
            AzureConfig::new("az", "https://res.openai.azure.com/", None),
            client,
        )
        .unwrap();
        let e = p.deployment("gpt-4o-prod", "chat/completions").unwrap();
        assert_eq!(
            e.uri.to_string(),
            "https://res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
        );
        assert!(p.deployment("x/../y", "embeddings").is_err());
        assert!(p.deployment("a?b", "embeddings").is_err());
    }
}
