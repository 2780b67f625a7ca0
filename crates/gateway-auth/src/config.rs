//! The `[auth]` configuration section.
//!
//! ```toml
//! [auth]
//! pepper = "${GATEWAY_KEY_PEPPER}"   # keyed hash of API keys; changing it invalidates all keys
//! key_cache_ttl_secs = 5              # bound on how long a revoked/disabled key still works elsewhere
//! negative_cache_ttl_secs = 5
//! key_cache_capacity = 100000
//! last_used_interval_secs = 60
//!
//! [auth.change_feed]                  # push revocations and tenant changes to every instance
//! enabled = true                      # Redis pub/sub if a Redis URL is known, else PostgreSQL NOTIFY
//! channel = "llm_gateway_changes"
//! redis_url = "redis://redis:6379"    # default: cache.redis_url
//!
//! [[auth.jwt_issuers]]
//! issuer = "https://login.example.com/"
//! audiences = ["llm-gateway"]
//! algorithms = ["RS256"]
//! jwks_url = "https://login.example.com/.well-known/jwks.json"
//! leeway_secs = 30
//! tenant_claim = "tenant"             # also: roles_claim, models_claim, regions_claim, subject_claim
//! default_roles = ["developer"]       # when the token has no roles claim
//! require_registered_tenant = true    # the tenant must exist (and be enabled) in the store
//!
//! [[auth.jwt_issuers.keys]]           # inline keys, instead of or next to jwks_url
//! kid = "2026-01"
//! algorithm = "HS256"
//! secret = "${GATEWAY_JWT_SECRET}"    # or: public_key_pem = """-----BEGIN PUBLIC KEY----- ..."""
//! ```

use gateway_core::{GatewayRole, Secret};
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde::Deserialize;

/// The `[auth]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Server-side secret for the API key hash. Without it keys are hashed with plain SHA-256.
    #[serde(default)]
    pub pepper: Option<Secret<String>>,
    /// How long a validated key is trusted without asking the store: the bound, in seconds,
    /// within which revoking or disabling a key (or its tenant) takes effect on every instance.
    #[serde(default = "five")]
    pub key_cache_ttl_secs: u64,
    /// How long a refused key is remembered (blunts repeated attempts with one bad key).
    #[serde(default = "five")]
    pub negative_cache_ttl_secs: u64,
    /// Entries in the key cache (valid and refused).
    #[serde(default = "capacity")]
    pub key_cache_capacity: u64,
    /// A key's `last_used_at` is written at most once per this interval per instance.
    #[serde(default = "sixty")]
    pub last_used_interval_secs: u64,
    #[serde(default)]
    pub jwt_issuers: Vec<JwtIssuerConfig>,
    /// Cache invalidations pushed between instances.
    #[serde(default)]
    pub change_feed: ChangeFeedConfig,
}

/// The `[auth.change_feed]` section: where key and tenant changes are announced so that every
/// instance drops its cached verdicts at once. Used only when several instances can share it
/// (Redis, or a PostgreSQL store); the TTL stays the bound while the channel is down.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeFeedConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Redis pub/sub channel or PostgreSQL `NOTIFY` channel (an identifier: letters, digits,
    /// `_`; at most 63 bytes). Instances of one deployment must agree on it.
    #[serde(default = "default_channel")]
    pub channel: String,
    /// Redis to publish on; defaults to `cache.redis_url`. Without any Redis URL the feed
    /// uses the PostgreSQL store, and with neither (SQLite) there is none.
    #[serde(default)]
    pub redis_url: Option<Secret<String>>,
}

impl Default for ChangeFeedConfig {
    fn default() -> Self {
        ChangeFeedConfig {
            enabled: true,
            channel: default_channel(),
            redis_url: None,
        }
    }
}

impl ChangeFeedConfig {
    /// Whether `channel` is usable as-is on both transports.
    pub fn channel_is_valid(&self) -> bool {
        !self.channel.is_empty()
            && self.channel.len() <= 63
            && self
                .channel
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !self.channel.as_bytes()[0].is_ascii_digit()
    }
}

fn default_channel() -> String {
    "llm_gateway_changes".to_owned()
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            pepper: None,
            key_cache_ttl_secs: five(),
            negative_cache_ttl_secs: five(),
            key_cache_capacity: capacity(),
            last_used_interval_secs: sixty(),
            jwt_issuers: Vec::new(),
            change_feed: ChangeFeedConfig::default(),
        }
    }
}

/// One trusted token issuer. Tokens are matched to it by their `iss` claim.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtIssuerConfig {
    /// Exact `iss` value.
    pub issuer: String,
    /// Accepted `aud` values; a token must name at least one. Required.
    pub audiences: Vec<String>,
    /// The algorithms this issuer signs with (`HS256`, `RS256`, `ES256`, `EdDSA`, ...).
    /// Anything else — `none` included — is refused before any key is tried.
    pub algorithms: Vec<Algorithm>,
    #[serde(default)]
    pub keys: Vec<JwtKeyConfig>,
    /// Where to fetch the issuer's public keys (https; http only for loopback).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Re-fetch the JWKS when it is older than this.
    #[serde(default = "three_hundred")]
    pub jwks_refresh_secs: u64,
    /// At most one fetch per this interval, however many unknown `kid`s arrive.
    #[serde(default = "thirty")]
    pub jwks_min_refresh_secs: u64,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[serde(default = "thirty")]
    pub leeway_secs: u64,
    #[serde(default = "claim_sub")]
    pub subject_claim: String,
    /// Claim naming the tenant (top-level name, or a dotted path into nested objects).
    #[serde(default = "claim_tenant")]
    pub tenant_claim: String,
    /// Claim with the gateway roles (array, or space/comma-separated string).
    #[serde(default = "claim_roles")]
    pub roles_claim: String,
    /// Claim with the allowed public model names; absent means all the tenant may use.
    #[serde(default = "claim_models")]
    pub models_claim: String,
    /// Claim with the allowed regions; absent means any the tenant may use.
    #[serde(default = "claim_regions")]
    pub regions_claim: String,
    /// Tenant for tokens without the tenant claim; without it such tokens are refused.
    #[serde(default)]
    pub default_tenant: Option<String>,
    /// Roles for tokens without the roles claim.
    #[serde(default = "developer")]
    pub default_roles: Vec<String>,
    /// When the gateway has a store: refuse tokens whose tenant is not registered there (or
    /// is disabled), and narrow models and regions by the tenant's. Default true.
    #[serde(default = "yes")]
    pub require_registered_tenant: bool,
}

/// An inline verification key of an issuer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtKeyConfig {
    /// Matched against the token's `kid`; a key without one is tried for tokens without `kid`.
    #[serde(default)]
    pub kid: Option<String>,
    /// The one algorithm this key verifies.
    pub algorithm: Algorithm,
    /// HMAC secret (HS256/384/512), at least 32 bytes.
    #[serde(default)]
    pub secret: Option<Secret<String>>,
    /// SPKI public key PEM (RS*, PS*, ES*, EdDSA).
    #[serde(default)]
    pub public_key_pem: Option<String>,
}

/// One problem in the section, with its dotted key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Minimum HMAC secret length (RFC 7518 §3.2: at least the hash size).
pub const MIN_HS_SECRET_BYTES: usize = 32;

impl AuthConfig {
    /// Every problem, with paths under `prefix` (e.g. `"auth"`). Empty when valid.
    pub fn problems(&self, prefix: &str) -> Vec<ConfigProblem> {
        let mut out = Vec::new();
        let mut problem = |path: String, message: &str| {
            out.push(ConfigProblem {
                path,
                message: message.to_owned(),
            })
        };
        if self.key_cache_ttl_secs == 0 {
            problem(format!("{prefix}.key_cache_ttl_secs"), "must be at least 1");
        }
        if self.key_cache_capacity == 0 {
            problem(format!("{prefix}.key_cache_capacity"), "must be at least 1");
        }
        if !self.change_feed.channel_is_valid() {
            problem(
                format!("{prefix}.change_feed.channel"),
                "must be 1-63 letters, digits or '_', not starting with a digit",
            );
        }
        for (i, issuer) in self.jwt_issuers.iter().enumerate() {
            let at = format!("{prefix}.jwt_issuers[{i}]");
            if self.jwt_issuers[..i]
                .iter()
                .any(|o| o.issuer == issuer.issuer)
            {
                problem(format!("{at}.issuer"), "is configured twice");
            }
            for (path, message) in issuer.problems() {
                problem(format!("{at}.{path}"), &message);
            }
        }
        out
    }
}

impl JwtIssuerConfig {
    /// Problems as (path relative to the issuer, message).
    pub(crate) fn problems(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut problem = |path: &str, message: String| out.push((path.to_owned(), message));
        if self.issuer.is_empty() {
            problem("issuer", "must not be empty".into());
        }
        if self.audiences.is_empty() || self.audiences.iter().any(String::is_empty) {
            problem(
                "audiences",
                "must list at least one non-empty audience".into(),
            );
        }
        if self.algorithms.is_empty() {
            problem("algorithms", "must list at least one algorithm".into());
        }
        if self.keys.is_empty() && self.jwks_url.is_none() {
            problem("keys", "give inline keys or a jwks_url".into());
        }
        if let Some(url) = &self.jwks_url
            && let Err(message) = check_jwks_url(url)
        {
            problem("jwks_url", message);
        }
        for role in &self.default_roles {
            if GatewayRole::parse(role).is_none() {
                problem("default_roles", format!("unknown role '{role}'"));
            }
        }
        for (i, key) in self.keys.iter().enumerate() {
            let at = format!("keys[{i}]");
            if !self.algorithms.contains(&key.algorithm) {
                problem(
                    &format!("{at}.algorithm"),
                    "is not in the issuer's algorithms".into(),
                );
            }
            if let Err(message) = key.check() {
                problem(&at, message);
            }
        }
        out
    }
}

impl JwtKeyConfig {
    pub(crate) fn check(&self) -> Result<(), String> {
        let hmac = self.algorithm.family() == AlgorithmFamily::Hmac;
        match (&self.secret, &self.public_key_pem) {
            (Some(secret), None) if hmac => {
                if secret.expose().len() < MIN_HS_SECRET_BYTES {
                    return Err(format!(
                        "secret must be at least {MIN_HS_SECRET_BYTES} bytes"
                    ));
                }
                Ok(())
            }
            (None, Some(pem)) if !hmac => {
                crate::jwt::keyset::decoding_key_from_pem(self.algorithm, pem).map(|_| ())
            }
            (Some(_), Some(_)) | (None, None) => {
                Err("give exactly one of secret and public_key_pem".into())
            }
            (Some(_), None) => Err(format!(
                "{:?} needs public_key_pem, not a secret",
                self.algorithm
            )),
            (None, Some(_)) => Err(format!(
                "{:?} needs a secret, not public_key_pem",
                self.algorithm
            )),
        }
    }
}

/// https anywhere; plain http only to a loopback host (tests, sidecars).
fn check_jwks_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|_| "is not a valid URL".to_owned())?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => Ok(()),
        (Some("http"), Some("127.0.0.1" | "localhost" | "[::1]" | "::1")) => Ok(()),
        (Some("http"), Some(_)) => Err("must use https (plain http only for loopback)".to_owned()),
        _ => Err("must be an absolute https URL".to_owned()),
    }
}

fn yes() -> bool {
    true
}
fn five() -> u64 {
    5
}
fn thirty() -> u64 {
    30
}
fn sixty() -> u64 {
    60
}
fn three_hundred() -> u64 {
    300
}
fn capacity() -> u64 {
    100_000
}
fn claim_sub() -> String {
    "sub".to_owned()
}
fn claim_tenant() -> String {
    "tenant".to_owned()
}
fn claim_roles() -> String {
    "roles".to_owned()
}
fn claim_models() -> String {
    "models".to_owned()
}
fn claim_regions() -> String {
    "regions".to_owned()
}
fn developer() -> Vec<String> {
    vec!["developer".to_owned()]
}
