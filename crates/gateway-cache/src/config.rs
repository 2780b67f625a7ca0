//! The `[cache]` configuration section.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// The `[cache]` section of the gateway configuration.
///
/// ```toml
/// [cache]
/// enabled = true
/// backend = "memory"            # or "redis" (shared by every instance)
/// max_bytes = 268435456         # memory backend: bound on cached bytes
/// default_ttl_secs = 300
/// # redis_url = "redis://cache.internal:6379"  # with "memory": propagates invalidations
///
/// [cache.models.gpt-4o-mini]
/// ttl_secs = 3600
///
/// [cache.tenants.acme]
/// enabled = false
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Master switch. Off by default: caching changes what callers see and must be chosen.
    pub enabled: bool,
    pub backend: CacheBackendKind,
    /// Memory backend: the most bytes (serialized responses) kept before evicting.
    pub max_bytes: u64,
    /// TTL of an entry when neither the model group nor the caller sets one.
    pub default_ttl_secs: u64,
    /// Upper bound on any TTL: the per-model ones and the caller's `x-gateway-cache-ttl`.
    pub max_ttl_secs: u64,
    /// Redis (`redis://`, `redis+unix://`): the store of the `redis` backend, and the
    /// invalidation channel of the `memory` backend when set.
    pub redis_url: Option<String>,
    /// How long one lookup or store may take, reconnecting included, before the cache gives
    /// up (a miss or a skipped store, never a failed request).
    pub redis_timeout_ms: u64,
    /// After a Redis failure, how long calls skip Redis at once (one probe per interval).
    pub redis_retry_interval_ms: u64,
    /// Prefix of every Redis key and of the invalidation channel (`{prefix}invalidate`).
    pub key_prefix: String,
    /// Cache requests with `temperature > 0` (their answers vary from call to call).
    pub cache_nonzero_temperature: bool,
    /// Per model group (public model name) overrides.
    pub models: BTreeMap<String, ModelCacheConfig>,
    /// Per tenant overrides.
    pub tenants: BTreeMap<String, TenantCacheConfig>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheBackendKind {
    /// In-process (moka), bounded by `max_bytes`; one cache per instance.
    #[default]
    Memory,
    /// Redis, shared by every instance pointing at it.
    Redis,
}

impl CacheBackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheBackendKind::Memory => "memory",
            CacheBackendKind::Redis => "redis",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelCacheConfig {
    /// `false` turns caching off for this model group (default: on when the cache is).
    pub enabled: Option<bool>,
    /// TTL of this model group's entries (default: `default_ttl_secs`).
    pub ttl_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantCacheConfig {
    /// `false` turns caching off for this tenant (default: on when the cache is).
    pub enabled: Option<bool>,
}

pub const DEFAULT_MAX_BYTES: u64 = 256 * 1024 * 1024;
pub const DEFAULT_TTL_SECS: u64 = 300;
pub const DEFAULT_MAX_TTL_SECS: u64 = 86_400;
pub const DEFAULT_KEY_PREFIX: &str = "gw:cache:";

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: false,
            backend: CacheBackendKind::Memory,
            max_bytes: DEFAULT_MAX_BYTES,
            default_ttl_secs: DEFAULT_TTL_SECS,
            max_ttl_secs: DEFAULT_MAX_TTL_SECS,
            redis_url: None,
            redis_timeout_ms: 500,
            redis_retry_interval_ms: 1000,
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            cache_nonzero_temperature: false,
            models: BTreeMap::new(),
            tenants: BTreeMap::new(),
        }
    }
}

impl CacheConfig {
    pub fn default_ttl(&self) -> Duration {
        Duration::from_secs(self.default_ttl_secs)
    }

    pub fn max_ttl(&self) -> Duration {
        Duration::from_secs(self.max_ttl_secs)
    }

    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms)
    }

    pub fn redis_retry_interval(&self) -> Duration {
        Duration::from_millis(self.redis_retry_interval_ms)
    }

    /// Problems as `(dotted key path under prefix, message)` (prefix e.g. `"cache"`); empty
    /// when valid. Checked even when `enabled = false`, so a mistake shows before it matters.
    pub fn problems(&self, prefix: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |key: &str, message: &str| {
            out.push((format!("{prefix}.{key}"), message.to_owned()));
        };
        if self.max_bytes == 0 {
            add("max_bytes", "must be greater than 0");
        }
        if self.max_ttl_secs == 0 {
            add("max_ttl_secs", "must be greater than 0");
        }
        if self.default_ttl_secs == 0 {
            add("default_ttl_secs", "must be greater than 0");
        } else if self.default_ttl_secs > self.max_ttl_secs {
            add("default_ttl_secs", "must not exceed max_ttl_secs");
        }
        if self.redis_timeout_ms == 0 {
            add("redis_timeout_ms", "must be greater than 0");
        }
        if !(10..=60_000).contains(&self.redis_retry_interval_ms) {
            add("redis_retry_interval_ms", "must be between 10 and 60000");
        }
        if self.key_prefix.is_empty() || self.key_prefix.chars().any(char::is_whitespace) {
            add("key_prefix", "must be non-empty and contain no whitespace");
        }
        match self.redis_url.as_deref() {
            None if self.backend == CacheBackendKind::Redis => {
                add("redis_url", "is required when backend = \"redis\"");
            }
            None => {}
            Some(url) if url.starts_with("rediss://") => add(
                "redis_url",
                "rediss:// (TLS) is not supported by this build; use redis:// on a private network",
            ),
            Some(url) if !(url.starts_with("redis://") || url.starts_with("redis+unix://")) => {
                add("redis_url", "must start with redis:// or redis+unix://");
            }
            Some(_) => {}
        }
        for (name, model) in &self.models {
            let path = format!("models.{name}.ttl_secs");
            match model.ttl_secs {
                Some(0) => add(&path, "must be greater than 0"),
                Some(ttl) if ttl > self.max_ttl_secs => add(&path, "must not exceed max_ttl_secs"),
                _ => {}
            }
            if name.is_empty() {
                add("models", "model group names must not be empty");
            }
        }
        if self.tenants.keys().any(String::is_empty) {
            add("tenants", "tenant ids must not be empty");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_off_memory_256_mib_five_minutes() {
        let cfg: CacheConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(cfg, CacheConfig::default());
        assert!(!cfg.enabled);
        assert_eq!(cfg.backend, CacheBackendKind::Memory);
        assert_eq!(cfg.max_bytes, 256 * 1024 * 1024);
        assert_eq!(cfg.default_ttl(), Duration::from_secs(300));
        assert_eq!(cfg.key_prefix, "gw:cache:");
        assert!(!cfg.cache_nonzero_temperature);
        assert!(cfg.problems("cache").is_empty());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(serde_json::from_str::<CacheConfig>(r#"{"ttl": 3}"#).is_err());
        assert!(serde_json::from_str::<CacheConfig>(r#"{"models": {"m": {"ttl": 3}}}"#).is_err());
        assert!(serde_json::from_str::<CacheConfig>(r#"{"backend": "disk"}"#).is_err());
    }

    #[test]
    fn problems_name_their_key_path() {
        let cfg: CacheConfig = serde_json::from_value(serde_json::json!({
            "backend": "redis", "max_bytes": 0, "default_ttl_secs": 0, "key_prefix": "",
            "models": {"gpt-4o": {"ttl_secs": 100000}}, "tenants": {"": {"enabled": false}}
        }))
        .unwrap();
        let keys: Vec<_> = cfg.problems("cache").into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "cache.max_bytes",
                "cache.default_ttl_secs",
                "cache.key_prefix",
                "cache.redis_url",
                "cache.models.gpt-4o.ttl_secs",
                "cache.tenants",
            ]
        );
        let tls = CacheConfig {
            redis_url: Some("rediss://h".into()),
            ..CacheConfig::default()
        };
        assert_eq!(tls.problems("cache")[0].0, "cache.redis_url");
        let bad = CacheConfig {
            redis_url: Some("http://h".into()),
            ..CacheConfig::default()
        };
        assert_eq!(bad.problems("cache").len(), 1);
    }
}
