//! Zero-configuration start: providers enabled from well-known environment variables, and the
//! offline demo provider.

use std::collections::BTreeMap;

use gateway_core::Secret;

use super::{Config, ModelConfig, ProviderConfig, ProviderKind};

/// OpenAI-compatible providers recognised from the environment: (name, key variable, base URL, models).
const ENV_PROVIDERS: [(&str, &str, &str, &[&str]); 3] = [
    (
        "openai",
        "OPENAI_API_KEY",
        "https://api.openai.com/v1",
        &[
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-4.1-mini",
            "o4-mini",
        ],
    ),
    (
        "groq",
        "GROQ_API_KEY",
        "https://api.groq.com/openai/v1",
        &["llama-3.3-70b-versatile", "llama-3.1-8b-instant"],
    ),
    (
        "openrouter",
        "OPENROUTER_API_KEY",
        "https://openrouter.ai/api/v1",
        &["openrouter/auto"],
    ),
];

/// Enable each known provider whose key is set (and that the config does not define already).
pub fn providers_from_env(config: &mut Config, lookup: &dyn Fn(&str) -> Option<String>) {
    for (name, var, base_url, models) in ENV_PROVIDERS {
        let Some(key) = lookup(var).filter(|k| !k.trim().is_empty()) else {
            continue;
        };
        if config.providers.contains_key(name) {
            continue;
        }
        config
            .providers
            .insert(name.to_owned(), openai_compatible(base_url, Some(key)));
        for model in models {
            config
                .models
                .entry((*model).to_owned())
                .or_insert_with(|| ModelConfig {
                    provider: name.to_owned(),
                    upstream_model: (*model).to_owned(),
                });
        }
    }
}

fn openai_compatible(base_url: &str, key: Option<String>) -> ProviderConfig {
    ProviderConfig {
        kind: ProviderKind::Openai,
        base_url: base_url.to_owned(),
        api_key: key.map(Secret::new),
        connect_timeout_ms: 5_000,
        first_byte_timeout_secs: 60,
        total_timeout_secs: 300,
        headers: BTreeMap::new(),
    }
}

/// Where the demo mock upstream listens (started by the binary from `gateway-testkit`).
#[derive(Debug, Clone)]
pub struct DemoUpstream {
    pub base_url: String,
}

/// The demo provider and its public model `demo`, served by the local mock.
pub fn add_demo_provider(config: &mut Config, upstream: &DemoUpstream) {
    config.providers.insert(
        "demo".to_owned(),
        openai_compatible(&upstream.base_url, Some("demo-upstream-key".to_owned())),
    );
    config.models.insert(
        "demo".to_owned(),
        ModelConfig {
            provider: "demo".to_owned(),
            upstream_model: "demo-model".to_owned(),
        },
    );
}
