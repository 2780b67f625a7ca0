//! Provider construction: a [`ProviderSpec`] (what a `[providers.NAME]` section says) becomes
//! an `Arc<dyn Provider>` through the [`ProviderFactory`] registered for its `kind`.
//!
//! [`ProviderRegistry::with_builtins`] knows `openai`, `anthropic`, `gemini` and `azure`. A
//! crate that depends on this one adds a kind with [`register_kind`] (the process-wide registry
//! the gateway's configuration is checked against and built from), before the configuration
//! is loaded; see `examples/custom_provider.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use gateway_core::{Provider, ProviderError, Secret};

use crate::client::{HttpClient, Timeouts};
use crate::{
    AnthropicConfig, AnthropicProvider, AzureConfig, AzureProvider, GeminiConfig, GeminiProvider,
    OpenAiConfig, OpenAiProvider,
};

/// OpenAI and every OpenAI-compatible server.
pub const OPENAI: &str = "openai";
/// Anthropic's Messages API.
pub const ANTHROPIC: &str = "anthropic";
/// Google Gemini (Generative Language API).
pub const GEMINI: &str = "gemini";
/// Azure OpenAI (deployments, `api-version`, `api-key`).
pub const AZURE: &str = "azure";

/// One configured upstream, whatever its kind.
#[derive(Debug, Clone)]
pub struct ProviderSpec {
    /// The configured name (`[providers.NAME]`), used in errors, metrics and usage records.
    pub name: String,
    /// Which factory builds it.
    pub kind: String,
    /// The API root; `None` takes the kind's [`ProviderFactory::default_base_url`].
    pub base_url: Option<String>,
    /// A version the vendor wants stated (Azure `api-version`, `anthropic-version`).
    pub api_version: Option<String>,
    pub api_key: Option<Secret<String>>,
    pub timeouts: Timeouts,
    /// Extra headers sent with every upstream request.
    pub headers: Vec<(String, String)>,
    /// Fields of other vendors' APIs this upstream accepts verbatim (`passthrough_params`;
    /// the `openai` kind's, see [`crate::openai::Passthrough`]).
    pub passthrough_params: Vec<String>,
}

impl ProviderSpec {
    /// A spec of `kind` named `name` with default timeouts and nothing else set.
    pub fn new(name: impl Into<String>, kind: impl Into<String>) -> Self {
        ProviderSpec {
            name: name.into(),
            kind: kind.into(),
            base_url: None,
            api_version: None,
            api_key: None,
            timeouts: Timeouts::default(),
            headers: Vec::new(),
            passthrough_params: Vec::new(),
        }
    }

    /// The base URL, or `default` when the spec sets none.
    pub fn base_url_or(&self, default: Option<&str>) -> Result<String, ProviderError> {
        self.base_url
            .as_deref()
            .or(default)
            .map(str::to_owned)
            .ok_or_else(|| ProviderError::Unsupported("base_url is required".to_owned()))
    }
}

/// Builds the providers of one kind.
pub trait ProviderFactory: Send + Sync + 'static {
    /// The vendor's public API root, used when a spec sets no `base_url`; `None` makes
    /// `base_url` required.
    fn default_base_url(&self) -> Option<&str> {
        None
    }

    /// The provider `spec` describes, calling upstream through `client`.
    fn build(
        &self,
        spec: &ProviderSpec,
        client: HttpClient,
    ) -> Result<Arc<dyn Provider>, ProviderError>;
}

/// The factories by kind.
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    kinds: BTreeMap<String, Arc<dyn ProviderFactory>>,
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.kinds.keys()).finish()
    }
}

impl ProviderRegistry {
    /// A registry without any kind.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The kinds this crate implements.
    pub fn with_builtins() -> Self {
        let mut registry = Self::empty();
        registry.register(OPENAI, OPENAI_KIND);
        registry.register(ANTHROPIC, ANTHROPIC_KIND);
        registry.register(GEMINI, GEMINI_KIND);
        registry.register(AZURE, AZURE_KIND);
        registry
    }

    /// Adds (or replaces) the factory of `kind`; returns the one it replaced.
    pub fn register(
        &mut self,
        kind: impl Into<String>,
        factory: impl ProviderFactory,
    ) -> Option<Arc<dyn ProviderFactory>> {
        self.kinds.insert(kind.into(), Arc::new(factory))
    }

    pub fn get(&self, kind: &str) -> Option<&dyn ProviderFactory> {
        self.kinds.get(kind).map(|f| &**f)
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.kinds.keys().map(String::as_str)
    }

    /// The provider `spec` describes; an unknown kind is an error naming the known ones.
    pub fn build(
        &self,
        spec: &ProviderSpec,
        client: HttpClient,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        let factory = self.get(&spec.kind).ok_or_else(|| {
            ProviderError::Unsupported(format!(
                "unknown provider kind '{}' (known: {})",
                spec.kind,
                self.kinds().collect::<Vec<_>>().join(", ")
            ))
        })?;
        factory.build(spec, client)
    }
}

fn global() -> &'static RwLock<ProviderRegistry> {
    static GLOBAL: OnceLock<RwLock<ProviderRegistry>> = OnceLock::new();
    GLOBAL.get_or_init(|| RwLock::new(ProviderRegistry::with_builtins()))
}

/// Adds `kind` to the process-wide registry the gateway's configuration uses (call it before
/// the configuration is loaded); returns the factory it replaced, if any.
pub fn register_kind(
    kind: impl Into<String>,
    factory: impl ProviderFactory,
) -> Option<Arc<dyn ProviderFactory>> {
    global()
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .register(kind, factory)
}

/// A copy of the process-wide registry: the built-in kinds and every [`register_kind`] so far.
/// Read when a configuration is checked or built, never per request.
pub fn registry() -> ProviderRegistry {
    global()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// What a factory gives: a provider ready to serve, or why not.
pub type Built = Result<Arc<dyn Provider>, ProviderError>;

/// A built-in kind: its vendor's default URL and how its settings are read from a spec (with
/// the base URL already resolved).
struct Builtin {
    default_base_url: Option<&'static str>,
    build: fn(&ProviderSpec, String, HttpClient) -> Built,
}

impl ProviderFactory for Builtin {
    fn default_base_url(&self) -> Option<&str> {
        self.default_base_url
    }

    fn build(
        &self,
        spec: &ProviderSpec,
        client: HttpClient,
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        let base_url = spec.base_url_or(self.default_base_url)?;
        (self.build)(spec, base_url, client)
    }
}

const OPENAI_KIND: Builtin = Builtin {
    default_base_url: Some("https://api.openai.com/v1"),
    build: |spec, base_url, client| {
        let passthrough = crate::openai::Passthrough::new(&spec.passthrough_params)
            .map_err(|e| ProviderError::Unsupported(format!("passthrough_params: {e}")))?;
        let config = OpenAiConfig {
            name: spec.name.clone(),
            base_url,
            api_key: spec.api_key.clone(),
            timeouts: spec.timeouts,
            headers: spec.headers.clone(),
            passthrough,
        };
        Ok(Arc::new(OpenAiProvider::new(config, client)?))
    },
};

const ANTHROPIC_KIND: Builtin = Builtin {
    default_base_url: Some(crate::anthropic::DEFAULT_BASE_URL),
    build: |spec, base_url, client| {
        let mut config = AnthropicConfig::new(spec.name.clone(), spec.api_key.clone());
        config.base_url = base_url;
        config.timeouts = spec.timeouts;
        config.headers = spec.headers.clone();
        if let Some(version) = &spec.api_version {
            config.version = version.clone();
        }
        Ok(Arc::new(AnthropicProvider::new(config, client)?))
    },
};

const GEMINI_KIND: Builtin = Builtin {
    default_base_url: Some(crate::gemini::DEFAULT_BASE_URL),
    build: |spec, base_url, client| {
        let mut config = GeminiConfig::new(spec.name.clone(), spec.api_key.clone());
        config.base_url = base_url;
        config.timeouts = spec.timeouts;
        Ok(Arc::new(GeminiProvider::new(config, client)?))
    },
};

/// Azure has no default URL: each resource has its own.
const AZURE_KIND: Builtin = Builtin {
    default_base_url: None,
    build: |spec, endpoint, client| {
        let mut config = AzureConfig::new(spec.name.clone(), endpoint, spec.api_key.clone());
        config.timeouts = spec.timeouts;
        if let Some(version) = &spec.api_version {
            config.api_version = version.clone();
        }
        Ok(Arc::new(AzureProvider::new(config, client)?))
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn client() -> HttpClient {
        HttpClient::new(Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn builtins_build_by_kind_with_their_default_urls() {
        let registry = ProviderRegistry::with_builtins();
        assert_eq!(
            registry.kinds().collect::<Vec<_>>(),
            ["anthropic", "azure", "gemini", "openai"]
        );
        for kind in [OPENAI, ANTHROPIC, GEMINI] {
            let provider = registry
                .build(&ProviderSpec::new(format!("my-{kind}"), kind), client())
                .unwrap();
            assert_eq!(provider.name(), format!("my-{kind}"));
        }
        let azure = ProviderSpec::new("az", AZURE);
        assert!(
            registry.build(&azure, client()).is_err(),
            "azure needs a URL"
        );
    }

    #[test]
    fn unknown_kind_names_the_known_ones() {
        let built = ProviderRegistry::with_builtins()
            .build(&ProviderSpec::new("p", "carrier-pigeon"), client());
        let Err(err) = built else {
            panic!("an unknown kind was built")
        };
        let err = err.to_string();
        assert!(
            err.contains("carrier-pigeon") && err.contains("openai"),
            "{err}"
        );
    }

    #[test]
    fn registered_kinds_reach_the_process_registry() {
        struct Echo;
        impl ProviderFactory for Echo {
            fn default_base_url(&self) -> Option<&str> {
                Some("http://127.0.0.1:1/v1")
            }
            fn build(
                &self,
                spec: &ProviderSpec,
                client: HttpClient,
            ) -> Result<Arc<dyn Provider>, ProviderError> {
                OPENAI_KIND.build(spec, client)
            }
        }
        assert!(registry().get("factory-test-echo").is_none());
        assert!(register_kind("factory-test-echo", Echo).is_none());
        let registry = registry();
        let factory = registry.get("factory-test-echo").unwrap();
        assert_eq!(factory.default_base_url(), Some("http://127.0.0.1:1/v1"));
        let spec = ProviderSpec::new("echo", "factory-test-echo");
        assert_eq!(registry.build(&spec, client()).unwrap().name(), "echo");
    }
}
