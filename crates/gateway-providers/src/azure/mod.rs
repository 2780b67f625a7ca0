//! The Azure OpenAI provider. Azure speaks OpenAI's wire format (the OpenAI codec is reused
//! with Azure's [`AzureRoutes`]) at per-deployment URLs:
//! `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}`, with
//! the key in the `api-key` header. A deployment's upstream model IS the Azure deployment name.

use std::borrow::Cow;

use gateway_core::{ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::http_provider::HttpProvider;
use crate::openai::{OpenAiCodec, OpenAiRoutes};
use crate::upstream_url::{UpstreamUrl, secret_header};

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

/// Azure's per-deployment URLs for OpenAI's wire format.
#[derive(Debug)]
pub struct AzureRoutes {
    base: UpstreamUrl,
    prefix: String,
    api_version: String,
}

/// An Azure OpenAI resource.
pub type AzureProvider = HttpProvider<OpenAiCodec<AzureRoutes>>;

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
            headers.push(secret_header(&config.name, "api-key", key.expose())?);
        }
        let base = UpstreamUrl::new(config.endpoint.trim_end_matches('/'), headers)?;
        let prefix = base.path().trim_end_matches('/').to_owned();
        let routes = AzureRoutes {
            base,
            prefix,
            api_version: config.api_version,
        };
        Ok(HttpProvider::from_codec(
            config.name,
            OpenAiCodec::new(routes),
            client,
            config.timeouts,
        ))
    }
}

impl AzureRoutes {
    /// `…/openai/deployments/{deployment}/{operation}?api-version=…`.
    fn deployment(&self, deployment: &str, operation: &str) -> Result<UpstreamUrl, ProviderError> {
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

impl OpenAiRoutes for AzureRoutes {
    fn chat(&self, model: &str) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        self.deployment(model, "chat/completions").map(Cow::Owned)
    }

    fn embeddings(&self, model: &str) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        self.deployment(model, "embeddings").map(Cow::Owned)
    }

    /// The models the resource offers (not its deployments: those are the router's business).
    fn models(&self) -> Result<Cow<'_, UpstreamUrl>, ProviderError> {
        let path = format!(
            "{}/openai/models?api-version={}",
            self.prefix, self.api_version
        );
        self.base.with_path(&path).map(Cow::Owned)
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
        let e = p
            .codec()
            .routes()
            .deployment("gpt-4o-prod", "chat/completions")
            .unwrap();
        assert_eq!(
            e.uri.to_string(),
            "https://res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
        );
        assert!(
            p.codec()
                .routes()
                .deployment("x/../y", "embeddings")
                .is_err()
        );
        assert!(p.codec().routes().deployment("a?b", "embeddings").is_err());
    }
}
