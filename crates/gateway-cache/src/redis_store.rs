//! The shared backend: Redis, one entry per key `{prefix}{tenant}:{model}:{hash}` holding the
//! JSON envelope of the answer (sealed per tenant when encryption is on), expiring with `PX`. Tenant and model group are in clear text
//! (percent-escaped) so that invalidation is a `SCAN MATCH` + `UNLINK`, with no index to keep.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gateway_core::encryption::ContentCipher;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::backend::CacheBackend;
use crate::circuit::Circuit;
use crate::entry::{CachedResponse, Invalidation};
use crate::error::CacheError;
use crate::key::Key;
use crate::seal::Sealer;
use crate::stats::{CacheStats, Counters, bump};

/// Keys removed per `SCAN` page during invalidation.
const SCAN_COUNT: usize = 500;

/// The Redis response cache. Cheap to clone (clones share the connection and the circuit).
///
/// Every lookup and store, reconnection included, is bounded by `timeout`; after a failure
/// the circuit opens and calls are skipped at once (a miss) until a probe succeeds.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: Arc<str>,
    timeout: Duration,
    circuit: Arc<Circuit>,
    counters: Arc<Counters>,
    sealer: Sealer,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// How long the circuit stays open after a failure when no interval is configured.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// A multiplexed, self-reconnecting connection that dials on first use (so a Redis that is
/// down at start-up is handled like one that goes down later). Must be called inside a tokio
/// runtime. Callers bound each use with their own deadline.
pub(crate) fn connect_lazy(
    url: &str,
    timeout: Duration,
    retry: Duration,
) -> Result<ConnectionManager, CacheError> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(timeout))
        .set_connection_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_max_delay(retry);
    Ok(client.get_connection_manager_lazy(config)?)
}

impl RedisCache {
    /// A cache over `url` that dials lazily: never fails because Redis is unreachable (only
    /// for a malformed URL). Must be called inside a tokio runtime.
    pub fn new(
        url: &str,
        prefix: &str,
        timeout: Duration,
        retry: Duration,
    ) -> Result<Self, CacheError> {
        Ok(RedisCache {
            conn: connect_lazy(url, timeout, retry)?,
            prefix: Arc::from(prefix),
            timeout,
            circuit: Arc::new(Circuit::new(retry)),
            counters: Arc::new(Counters::default()),
            sealer: Sealer::default(),
        })
    }

    /// Values are stored in Redis sealed with `cipher` (per tenant; the Redis key is bound
    /// as authenticated data, so a value copied under another key does not open).
    pub fn with_cipher(mut self, cipher: Arc<dyn ContentCipher>) -> Self {
        self.sealer = Sealer::new(Some(cipher));
        self
    }

    /// [`RedisCache::new`], then fail unless Redis answers a `PING` within `timeout`.
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Self, CacheError> {
        let cache = RedisCache::new(url, prefix, timeout, DEFAULT_RETRY_INTERVAL)?;
        cache.ping().await?;
        Ok(cache)
    }

    /// One `PING` under the deadline, recorded by the circuit (a failure opens it).
    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let result = self
            .bounded(async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(CacheError::from)
            })
            .await;
        self.count_error(result)
    }

    /// Whether Redis failed its last call and no probe has succeeded since.
    pub fn is_down(&self) -> bool {
        self.circuit.is_down()
    }

    /// Run `op` if the circuit allows, under the deadline, and record how it went.
    async fn guarded<T>(
        &self,
        op: impl Future<Output = Result<T, CacheError>>,
    ) -> Result<T, CacheError> {
        if !self.circuit.allow() {
            return Err(CacheError::Unavailable);
        }
        self.count_error(self.bounded(op).await)
    }

    async fn bounded<T>(
        &self,
        op: impl Future<Output = Result<T, CacheError>>,
    ) -> Result<T, CacheError> {
        let result = match tokio::time::timeout(self.timeout, op).await {
            Ok(result) => result,
            Err(_) => Err(CacheError::Timeout(self.timeout)),
        };
        // An undecodable entry is not Redis being down.
        let reached = !matches!(result, Err(CacheError::Redis(_) | CacheError::Timeout(_)));
        self.circuit.record(reached);
        result
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
        let Some(bytes) = bytes else { return Ok(None) };
        match self.sealer.decode(key, &bytes).await {
            Ok(entry) => Ok(Some(entry)),
            // Sealed for keys that are gone (shredded): a miss, not a Redis failure.
            Err(CacheError::Cipher(err)) => {
                tracing::debug!(error = %err, "sealed cache entry did not open");
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }

    async fn write(&self, key: &Key, bytes: Vec<u8>, ttl_ms: u64) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(self.redis_key(key))
            .arg(bytes)
            .arg("PX")
            .arg(ttl_ms)
            .exec_async(&mut conn)
            .await
            .map_err(CacheError::from)
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
        let result = self.guarded(self.fetch(key)).await;
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
        let bytes = self.sealer.encode(key, entry).await?;
        let len = bytes.len() as u64;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.guarded(self.write(key, bytes, ttl_ms)).await?;
        bump(&self.counters.stores, 1);
        bump(&self.counters.bytes_written, len);
        Ok(())
    }

    pub async fn invalidate(&self, scope: &Invalidation) -> Result<u64, CacheError> {
        // Not under the lookup deadline (a large scope takes many pages; each command is
        // bounded by the connection's response timeout), but it tells the circuit.
        let result = self.scan_unlink(&self.scope_pattern(scope)).await;
        self.circuit
            .record(!matches!(result, Err(CacheError::Redis(_))));
        let removed = self.count_error(result)?;
        bump(&self.counters.invalidations, removed);
        Ok(removed)
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            backend_down: self.circuit.is_down(),
            ..self.counters.snapshot()
        }
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
