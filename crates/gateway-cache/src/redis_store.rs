//! The shared backend: Redis, one entry per key `{prefix}{tenant}:{model}:{hash}` holding the
//! JSON envelope of the answer, expiring with `PX`. Tenant and model group are in clear text
//! (percent-escaped) so that invalidation is a `SCAN MATCH` + `UNLINK`, with no index to keep.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::backend::CacheBackend;
use crate::entry::{CachedResponse, Invalidation};
use crate::error::CacheError;
use crate::key::Key;
use crate::stats::{CacheStats, Counters, bump};

/// Keys removed per `SCAN` page during invalidation.
const SCAN_COUNT: usize = 500;

/// The Redis response cache. Cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: Arc<str>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A multiplexed, self-reconnecting connection whose commands give up after `timeout`.
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<ConnectionManager, CacheError> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(timeout))
        .set_connection_timeout(Some(timeout.max(Duration::from_secs(1))))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(2));
    Ok(ConnectionManager::new_with_config(client, config).await?)
}

impl RedisCache {
    /// Connect to `url`; fails if Redis cannot be reached now (it reconnects on its own later).
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Self, CacheError> {
        Ok(RedisCache::with_connection(
            connect(url, timeout).await?,
            prefix,
        ))
    }

    pub fn with_connection(conn: ConnectionManager, prefix: &str) -> Self {
        RedisCache {
            conn,
            prefix: Arc::from(prefix),
            counters: Arc::new(Counters::default()),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of `key`.
    pub fn redis_key(&self, key: &Key) -> String {
        redis_key(&self.prefix, key)
    }

    /// The `SCAN MATCH` pattern of the keys in `scope`.
    pub fn scope_pattern(&self, scope: &Invalidation) -> String {
        scope_pattern(&self.prefix, scope)
    }

    fn count_error<T>(&self, result: Result<T, CacheError>) -> Result<T, CacheError> {
        if result.is_err() {
            bump(&self.counters.errors, 1);
        }
        result
    }

    async fn fetch(&self, key: &Key) -> Result<Option<CachedResponse>, CacheError> {
        let mut conn = self.conn.clone();
        let bytes: Option<Vec<u8>> = redis::cmd("GET")
            .arg(self.redis_key(key))
            .query_async(&mut conn)
            .await?;
        bytes.map(|b| CachedResponse::decode(&b)).transpose()
    }

    async fn scan_unlink(&self, pattern: &str) -> Result<u64, CacheError> {
        let mut conn = self.conn.clone();
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(&mut conn)
                .await?;
            if !keys.is_empty() {
                let n: u64 = redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await?;
                removed += n;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

/// The scoped API; [`CacheBackend`] delegates here (inherent methods also win over the
/// core trait's same-named ones, so calls need no disambiguation).
impl RedisCache {
    pub async fn get(&self, key: &Key) -> Result<Option<CachedResponse>, CacheError> {
        let result = self.count_error(self.fetch(key).await);
        let counter = match &result {
            Ok(Some(_)) => &self.counters.hits,
            _ => &self.counters.misses,
        };
        bump(counter, 1);
        result
    }

    pub async fn put(
        &self,
        key: &Key,
        entry: &CachedResponse,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let bytes = entry.encode()?;
        let len = bytes.len() as u64;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut conn = self.conn.clone();
        let result: Result<(), CacheError> = redis::cmd("SET")
            .arg(self.redis_key(key))
            .arg(bytes)
            .arg("PX")
            .arg(ttl_ms)
            .exec_async(&mut conn)
            .await
            .map_err(CacheError::from);
        self.count_error(result)?;
        bump(&self.counters.stores, 1);
        bump(&self.counters.bytes_written, len);
        Ok(())
    }

    pub async fn invalidate(&self, scope: &Invalidation) -> Result<u64, CacheError> {
        let result = self.scan_unlink(&self.scope_pattern(scope)).await;
        let removed = self.count_error(result)?;
        bump(&self.counters.invalidations, removed);
        Ok(removed)
    }

    pub fn stats(&self) -> CacheStats {
        self.counters.snapshot()
    }
}

#[async_trait]
impl CacheBackend for RedisCache {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &Key) -> Result<Option<CachedResponse>, CacheError> {
        RedisCache::get(self, key).await
    }

    async fn put(
        &self,
        key: &Key,
        entry: &CachedResponse,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        RedisCache::put(self, key, entry, ttl).await
    }

    async fn invalidate(&self, scope: &Invalidation) -> Result<u64, CacheError> {
        RedisCache::invalidate(self, scope).await
    }

    fn stats(&self) -> CacheStats {
        RedisCache::stats(self)
    }
}

fn redis_key(prefix: &str, key: &Key) -> String {
    format!(
        "{prefix}{}:{}:{}",
        escape_segment(key.tenant.as_str()),
        escape_segment(&key.model_group),
        key.hash_hex()
    )
}

fn scope_pattern(prefix: &str, scope: &Invalidation) -> String {
    let prefix = glob_escape(prefix);
    match scope {
        Invalidation::All => format!("{prefix}*"),
        Invalidation::Tenant { tenant } => format!("{prefix}{}:*", escape_segment(tenant)),
        // Segments hold no ':' once escaped, so ":{model}:" can only be the model segment.
        Invalidation::Model { model } => format!("{prefix}*:{}:*", escape_segment(model)),
    }
}

/// Tenant ids and model names as key segments: `[A-Za-z0-9._-]` kept, every other byte as
/// `%XX`. Injective, and free of `:` and of Redis glob characters.
pub(crate) fn escape_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A literal for a Redis glob pattern.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_escape_separators_and_globs() {
        assert_eq!(escape_segment("acme-prod_1.eu"), "acme-prod_1.eu");
        assert_eq!(escape_segment("ollama:llama3"), "ollama%3Allama3");
        assert_eq!(escape_segment("a*b?[c]%"), "a%2Ab%3F%5Bc%5D%25");
        assert_eq!(escape_segment("é"), "%C3%A9");
        assert_eq!(glob_escape("gw:*cache["), "gw:\\*cache\\[");
    }

    #[test]
    fn keys_and_patterns_carry_tenant_and_model_in_clear() {
        let key = Key {
            tenant: gateway_core::TenantId::new("acme"),
            model_group: Arc::from("ollama:llama3"),
            hash: [0xab; 32],
        };
        let k = redis_key("gw:cache:", &key);
        assert_eq!(
            k,
            format!("gw:cache:acme:ollama%3Allama3:{}", "ab".repeat(32))
        );
        let tenant = Invalidation::Tenant {
            tenant: "acme".into(),
        };
        assert_eq!(scope_pattern("gw:cache:", &tenant), "gw:cache:acme:*");
        assert_eq!(
            scope_pattern("gw:cache:", &Invalidation::model("ollama:llama3")),
            "gw:cache:*:ollama%3Allama3:*"
        );
        assert_eq!(scope_pattern("p[1]:", &Invalidation::All), "p\\[1\\]:*");
    }
}
