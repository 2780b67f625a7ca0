//! Presets for the OpenAI-compatible marketplaces and local servers: each is a provider
//! `kind` (`kind = "groq"`) that builds an [`OpenAiProvider`] with the vendor's base URL, the
//! headers it asks for and its key rule. `base_url`, `headers` and `passthrough_params` of the
//! provider's configuration still apply and win over the preset's (a self-hosted vLLM, a
//! test pointing the preset at a mock).

use std::sync::Arc;

use gateway_core::{Provider, ProviderError};

use crate::client::HttpClient;
use crate::factory::{ProviderFactory, ProviderSpec};

use super::{OpenAiConfig, OpenAiProvider, Passthrough};

/// Whether a preset's upstream needs an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRule {
    /// A hosted API: a provider without `api_key` is refused when it is built.
    Required,
    /// A local server that accepts any key or none (a key set is still sent as a bearer).
    Optional,
}

/// One OpenAI-compatible upstream the gateway knows by name.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// The provider kind (`kind = "groq"`).
    pub kind: &'static str,
    /// The vendor's name, for docs and errors.
    pub vendor: &'static str,
    /// The vendor's API root (`/chat/completions` is appended).
    pub base_url: &'static str,
    /// Headers sent with every request unless the configuration sets the same name.
    pub headers: &'static [(&'static str, &'static str)],
    /// Every preset sends the key as `Authorization: Bearer KEY`; this says whether one is
    /// needed.
    pub key: KeyRule,
}

/// The presets, by kind. Docs: `docs/providers.md`.
pub const PRESETS: &[Preset] = &[
    Preset {
        kind: "huggingface",
        vendor: "Hugging Face Inference Providers (router)",
        base_url: "https://router.huggingface.co/v1",
        headers: &[],
        key: KeyRule::Required,
    },
    Preset {
        kind: "together",
        vendor: "Together AI",
        base_url: "https://api.together.xyz/v1",
        headers: &[],
        key: KeyRule::Required,
    },
    Preset {
        kind: "fireworks",
        vendor: "Fireworks AI",
        base_url: "https://api.fireworks.ai/inference/v1",
        headers: &[],
        key: KeyRule::Required,
    },
    Preset {
        kind: "mistral",
        vendor: "Mistral AI (La Plateforme)",
        base_url: "https://api.mistral.ai/v1",
        headers: &[],
        key: KeyRule::Required,
    },
    Preset {
        kind: "deepseek",
        vendor: "DeepSeek",
        base_url: "https://api.deepseek.com/v1",
        headers: &[],
        key: KeyRule::Required,
    },
    Preset {
        kind: "groq",
        vendor: "Groq",
        base_url: "https://api.groq.com/openai/v1",
        headers: &[],
        key: KeyRule::Required,
    },
    Preset {
        kind: "openrouter",
        vendor: "OpenRouter",
        base_url: "https://openrouter.ai/api/v1",
        // OpenRouter's optional app attribution; set your own site and title in `headers`.
        headers: &[
            (
                "HTTP-Referer",
                "https://github.com/llm-secure-gateway/llm-secure-gateway",
            ),
            ("X-Title", "LLM Secure Gateway"),
        ],
        key: KeyRule::Required,
    },
    Preset {
        kind: "ollama",
        vendor: "Ollama",
        base_url: "http://127.0.0.1:11434/v1",
        headers: &[],
        key: KeyRule::Optional,
    },
    Preset {
        kind: "vllm",
        vendor: "vLLM",
        base_url: "http://127.0.0.1:8000/v1",
        headers: &[],
        key: KeyRule::Optional,
    },
    Preset {
        kind: "lmstudio",
        vendor: "LM Studio",
        base_url: "http://127.0.0.1:1234/v1",
        headers: &[],
        key: KeyRule::Optional,
    },
];

/// The preset of `kind`, if it is one.
pub fn preset(kind: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.kind == kind)
}

impl Preset {
    /// The headers sent: the configuration's, then the preset's whose names it does not set.
    pub fn headers_with(&self, configured: &[(String, String)]) -> Vec<(String, String)> {
        let mut headers = configured.to_vec();
        for (name, value) in self.headers {
            if !configured.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                headers.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        headers
    }
}

impl ProviderFactory for &'static Preset {
    fn default_base_url(&self) -> Option<&str> {
        Some(self.base_url)
    }

    fn build(
        &self,
        spec: &ProviderSpec,
        client: HttpClient,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        if self.key == KeyRule::Required && spec.api_key.is_none() {
            return Err(ProviderError::Unsupported(format!(
                "provider '{}': api_key is required for {} (kind \"{}\")",
                spec.name, self.vendor, self.kind
            )));
        }
        let passthrough = Passthrough::new(&spec.passthrough_params)
            .map_err(|e| ProviderError::Unsupported(format!("passthrough_params: {e}")))?;
        let config = OpenAiConfig {
            name: spec.name.clone(),
            base_url: spec.base_url_or(Some(self.base_url))?,
            api_key: spec.api_key.clone(),
            timeouts: spec.timeouts,
            headers: self.headers_with(&spec.headers),
            passthrough,
        };
        Ok(Arc::new(OpenAiProvider::new(config, client)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_unique_and_urls_parse() {
        let mut kinds = std::collections::HashSet::new();
        for p in PRESETS {
            assert!(kinds.insert(p.kind), "{} twice", p.kind);
            let uri: http::Uri = p.base_url.parse().unwrap();
            assert!(uri.path().ends_with("/v1"), "{}", p.base_url);
        }
        assert_eq!(PRESETS.len(), 10);
    }

    #[test]
    fn configured_headers_win_over_the_preset_case_insensitively() {
        let openrouter = preset("openrouter").unwrap();
        let configured = vec![("x-title".to_owned(), "My App".to_owned())];
        let headers = openrouter.headers_with(&configured);
        assert_eq!(
            headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("x-title"))
                .count(),
            1
        );
        assert!(headers.contains(&("x-title".to_owned(), "My App".to_owned())));
        assert!(headers.iter().any(|(n, _)| n == "HTTP-Referer"));
    }

    #[test]
    fn hosted_presets_need_a_key_local_ones_do_not() {
        let client = HttpClient::new(std::time::Duration::from_secs(1)).unwrap();
        let groq = preset("groq").unwrap();
        let err = groq
            .build(&ProviderSpec::new("g", "groq"), client.clone())
            .err()
            .unwrap();
        assert!(err.to_string().contains("api_key is required"), "{err}");
        let ollama = preset("ollama").unwrap();
        assert!(
            ollama
                .build(&ProviderSpec::new("o", "ollama"), client)
                .is_ok()
        );
    }
}
