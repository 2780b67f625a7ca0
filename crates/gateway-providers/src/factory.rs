//! Provider construction: a [`ProviderSpec`] (what a `[providers.NAME]` section says) becomes
//! an `Arc<dyn Provider>` through the [`ProviderFactory`] registered for its `kind`.
//!
//! [`ProviderRegistry::with_builtins`] knows `openai`, `anthropic`, `gemini`, `azure` and the
//! OpenAI-compatible presets of [`crate::openai::presets`] (`groq`, `openrouter`, ...). A
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
/// AWS Bedrock (Converse, SigV4).
pub const BEDROCK: &str = "bedrock";
/// Google Vertex AI (Gemini and Claude, service-account tokens).
pub const VERTEX: &str = "vertex";

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
    /// The cloud region (Bedrock's signing region).
    pub region: Option<String>,
    /// AWS access keys (Bedrock); `None` reads the standard environment variables.
    pub aws: Option<crate::AwsKeys>,
    /// The cloud project (Vertex AI; default: the service account's).
    pub project: Option<String>,
    /// A Google service-account key file's JSON (Vertex AI).
    pub service_account: Option<Secret<String>>,
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
            region: None,
            aws: None,
            project: None,
            service_account: None,
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
        registry.register(BEDROCK, BEDROCK_KIND);
        registry.register(VERTEX, VERTEX_KIND);
        for preset in crate::openai::presets::PRESETS {
            registry.register(preset.kind, preset);
        }
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

/// The default URL is that of `us-east-1`; a spec's region picks its own.
const BEDROCK_KIND: Builtin = Builtin {
    default_base_url: Some("https://bedrock-runtime.us-east-1.amazonaws.com"),
    build: |spec, _default, client| {
        let env = |name: &str| std::env::var(name).ok();
        Ok(Arc::new(crate::BedrockProvider::new(
            bedrock_config(spec, &env)?,
            client,
        )?))
    },
};

/// The default URL is that of `us-central1`; a spec's region (the Vertex location) picks its
/// own.
const VERTEX_KIND: Builtin = Builtin {
    default_base_url: Some("https://us-central1-aiplatform.googleapis.com/v1"),
    build: |spec, _default, client| {
        let bad =
            |what: &str| ProviderError::Unsupported(format!("provider '{}': {what}", spec.name));
        let json = spec
            .service_account
            .as_ref()
            .ok_or_else(|| bad("service_account_file is required"))?;
        let key = crate::vertex::ServiceAccountKey::from_json(json.expose())
            .map_err(|e| bad(&e.to_string()))?;
        let project = spec
            .project
            .clone()
            .or_else(|| key.project_id.clone())
            .ok_or_else(|| bad("project is required (the key names none)"))?;
        let config = crate::vertex::VertexConfig {
            name: spec.name.clone(),
            project,
            location: spec
                .region
                .clone()
                .unwrap_or_else(|| "us-central1".to_owned()),
            base_url: spec.base_url.clone(),
            key,
            timeouts: spec.timeouts,
        };
        Ok(Arc::new(crate::vertex::VertexProvider::new(
            config, client,
        )?))
    },
};

/// A Bedrock spec's settings: the region (else `AWS_REGION`, `AWS_DEFAULT_REGION`), a Bedrock
/// API key, else the configured access keys, else those of the environment.
pub(crate) fn bedrock_config(
    spec: &ProviderSpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<crate::BedrockConfig, ProviderError> {
    let region = spec
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            ProviderError::Unsupported(format!(
                "provider '{}': region is required (or AWS_REGION)",
                spec.name
            ))
        })?;
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ProviderError::Unsupported(format!(
            "provider '{}': invalid region '{region}'",
            spec.name
        )));
    }
    let auth = match (&spec.api_key, &spec.aws) {
        (Some(key), _) => crate::BedrockAuth::ApiKey(key.clone()),
        (None, Some(keys)) => crate::BedrockAuth::Keys(keys.clone()),
        (None, None) => {
            crate::BedrockAuth::Keys(crate::AwsKeys::from_env(env).ok_or_else(|| {
                ProviderError::Unsupported(format!(
                    "provider '{}': no AWS credentials (set aws_access_key_id and \
                     aws_secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                    spec.name
                ))
            })?)
        }
    };
    Ok(crate::BedrockConfig {
        name: spec.name.clone(),
        region,
        base_url: spec.base_url.clone(),
        auth,
        timeouts: spec.timeouts,
    })
}

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
        let kinds: Vec<&str> = registry.kinds().collect();
        assert!(kinds.contains(&BEDROCK) && kinds.contains(&VERTEX));
        for kind in [
            "anthropic",
            "azure",
            "gemini",
            "openai",
            "groq",
            "openrouter",
            "vllm",
        ] {
            assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
        }
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
    fn bedrock_region_and_credentials_from_spec_or_environment() {
        let env = |name: &str| match name {
            "AWS_REGION" => Some("eu-central-1".to_owned()),
            "AWS_ACCESS_KEY_ID" => Some("AKIDENV".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_owned()),
            _ => None,
        };
        let spec = ProviderSpec::new("b", BEDROCK);
        let config = bedrock_config(&spec, &env).unwrap();
        assert_eq!(config.region, "eu-central-1");
        assert!(
            matches!(&config.auth, crate::BedrockAuth::Keys(k) if k.access_key_id == "AKIDENV")
        );
        let mut spec = ProviderSpec::new("b", BEDROCK);
        spec.region = Some("us-west-2".to_owned());
        spec.aws = Some(crate::AwsKeys {
            access_key_id: "AKIDCONF".to_owned(),
            secret_access_key: Secret::new("s".to_owned()),
            session_token: None,
        });
        let config = bedrock_config(&spec, &env).unwrap();
        assert_eq!(config.region, "us-west-2");
        assert!(
            matches!(&config.auth, crate::BedrockAuth::Keys(k) if k.access_key_id == "AKIDCONF")
        );
        let none = |_: &str| None;
        let err = bedrock_config(&ProviderSpec::new("b", BEDROCK), &none).unwrap_err();
        assert!(err.to_string().contains("region"), "{err}");
        spec.region = Some("us-east-1/../x".to_owned());
        assert!(bedrock_config(&spec, &none).is_err());
        spec.region = Some("us-east-1".to_owned());
        spec.aws = None;
        let err = bedrock_config(&spec, &none).unwrap_err();
        assert!(err.to_string().contains("no AWS credentials"), "{err}");
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
