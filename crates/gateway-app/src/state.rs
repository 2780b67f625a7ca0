//! The application state: the assembled pipeline plus what the edge needs from the config.
//! This is the one documented place where phases are put together.

use std::sync::Arc;
use std::time::Duration;

use gateway_core::Gateway;
use gateway_providers::{
    Deployment, HttpClient, ModelGroup, ModelRouter, OpenAiConfig, OpenAiProvider, Timeouts,
};

use crate::config::{Config, ProviderConfig, ProviderKind};
use crate::error::AppError;

pub struct AppState {
    pub gateway: Arc<Gateway>,
    pub router: Arc<ModelRouter>,
    pub providers: Vec<String>,
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
    pub request_timeout: Duration,
}

impl AppState {
    /// Build the pipeline from a validated configuration.
    pub fn build(config: &Config) -> Result<Arc<AppState>, AppError> {
        let client = HttpClient::new(Duration::from_secs(5))
            .map_err(|e| AppError::Startup(e.to_string()))?;
        let mut providers = std::collections::BTreeMap::new();
        for (name, p) in &config.providers {
            providers.insert(name.clone(), build_provider(name, p, &client)?);
        }
        let groups = config.models.iter().filter_map(|(name, m)| {
            let provider = providers.get(&m.provider)?.clone();
            Some(ModelGroup::new(
                name.clone(),
                vec![Deployment::new(provider, &m.upstream_model)],
            ))
        });
        let router = Arc::new(ModelRouter::new(groups));
        let gateway = Gateway::builder(router.clone()).build();
        Ok(Arc::new(AppState {
            gateway: Arc::new(gateway),
            router,
            providers: providers.keys().cloned().collect(),
            max_body_bytes: config.server.max_body_bytes,
            body_timeout: Duration::from_secs(config.server.body_timeout_secs),
            request_timeout: Duration::from_secs(config.server.request_timeout_secs),
        }))
    }
}

fn build_provider(
    name: &str,
    p: &ProviderConfig,
    client: &HttpClient,
) -> Result<Arc<dyn gateway_core::Provider>, AppError> {
    let timeouts = Timeouts {
        connect: Duration::from_millis(p.connect_timeout_ms),
        first_byte: Duration::from_secs(p.first_byte_timeout_secs),
        total: Duration::from_secs(p.total_timeout_secs),
    };
    let provider = match p.kind {
        ProviderKind::Openai => OpenAiProvider::new(
            OpenAiConfig {
                name: name.to_owned(),
                base_url: p.base_url.clone(),
                api_key: p.api_key.clone(),
                timeouts,
                headers: p
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            },
            client.clone(),
        ),
    }
    .map_err(|e| AppError::Startup(format!("provider '{name}': {e}")))?;
    Ok(Arc::new(provider))
}
