//! Zero-configuration start: providers enabled from well-known environment variables, and the
//! offline demo provider.

use std::collections::BTreeMap;

use gateway_core::Secret;

use gateway_providers::factory::{ANTHROPIC, GEMINI, OPENAI};

use super::{Config, ModelConfig, ProviderConfig};

/// A provider recognised from the environment.
struct EnvProvider {
    name: &'static str,
    key_var: &'static str,
    kind: &'static str,
    base_url: Option<&'static str>,
    models: &'static [&'static str],
}

const ENV_PROVIDERS: [EnvProvider; 5] = [
    EnvProvider {
        name: "openai",
        key_var: "OPENAI_API_KEY",
        kind: OPENAI,
        base_url: None,
        models: &[
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-4.1-mini",
            "o4-mini",
        ],
    },
    EnvProvider {
        name: "anthropic",
        key_var: "ANTHROPIC_API_KEY",
        kind: ANTHROPIC,
        base_url: None,
        models: &["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"],
    },
    EnvProvider {
        name: "gemini",
        key_var: "GEMINI_API_KEY",
        kind: GEMINI,
        base_url: None,
        models: &[
            "gemini-2.5-pro",
            "gemini-2.5-flash",
            "gemini-2.5-flash-lite",
        ],
    },
    EnvProvider {
        name: "groq",
        key_var: "GROQ_API_KEY",
        kind: OPENAI,
        base_url: Some("https://api.groq.com/openai/v1"),
        models: &["llama-3.3-70b-versatile", "llama-3.1-8b-instant"],
    },
    EnvProvider {
        name: "openrouter",
        key_var: "OPENROUTER_API_KEY",
        kind: OPENAI,
        base_url: Some("https://openrouter.ai/api/v1"),
        models: &["openrouter/auto"],
    },
];

/// Enable each known provider whose key is set (and that the config does not define already).
pub fn providers_from_env(config: &mut Config, lookup: &dyn Fn(&str) -> Option<String>) {
    for p in &ENV_PROVIDERS {
        let Some(key) = lookup(p.key_var).filter(|k| !k.trim().is_empty()) else {
            continue;
        };
        if config.providers.contains_key(p.name) {
            continue;
        }
        config
            .providers
            .insert(p.name.to_owned(), provider(p.kind, p.base_url, Some(key)));
        for model in p.models {
            config
                .models
                .entry((*model).to_owned())
                .or_insert_with(|| ModelConfig::single(p.name, model));
        }
    }
}

fn provider(kind: &str, base_url: Option<&str>, key: Option<String>) -> ProviderConfig {
    ProviderConfig {
        kind: kind.to_owned(),
        base_url: base_url.map(str::to_owned),
        api_version: None,
        api_key: key.map(Secret::new),
        connect_timeout_ms: super::model::DEFAULT_CONNECT_MS,
        first_byte_timeout_secs: 60,
        total_timeout_secs: 300,
        max_stream_secs: super::model::default_max_stream_secs(),
        max_sse_line_bytes: super::model::default_max_sse_line_bytes(),
        headers: BTreeMap::new(),
        passthrough_params: Vec::new(),
        ca_file: None,
        region: None,
        aws_access_key_id: None,
        aws_secret_access_key: None,
        aws_session_token: None,
        project: None,
        service_account_file: None,
    }
}

/// Where the demo mock upstream listens (started by the binary from `gateway-testkit`).
#[derive(Debug, Clone)]
pub struct DemoUpstream {
    pub base_url: String,
}

/// The demo provider and its public model `demo`, served by the local mock.
pub fn add_demo_provider(config: &mut Config, upstream: &DemoUpstream) {
    let demo = provider(
        OPENAI,
        Some(&upstream.base_url),
        Some("demo-upstream-key".to_owned()),
    );
    config.providers.insert("demo".to_owned(), demo);
    config
        .models
        .insert("demo".to_owned(), ModelConfig::single("demo", "demo-model"));
}
