//! The in-process backend: a moka cache bounded by bytes (each entry weighs its serialized
//! size), with a TTL per entry and least-recently-used eviction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;

use crate::backend::CacheBackend;
use crate::entry::{CachedResponse, Invalidation};
use crate::error::CacheError;
use crate::key::Key;
use crate::seal::Sealer;
use crate::stats::{CacheStats, Counters, bump};
use gateway_core::encryption::ContentCipher;

/// An entry as held: the value itself, or its sealed bytes when encryption is on.
#[derive(Clone)]
enum Held {
    Plain(Arc<CachedResponse>),
    Sealed(Arc<[u8]>),
}

#[derive(Clone)]
struct Stored {
    entry: Held,
    ttl: Duration,
    weight: u32,
}

/// Each entry lives for the TTL it was stored with.
struct PerEntryTtl;

impl Expiry<Key, Stored> for PerEntryTtl {
    fn expire_after_create(&self, _: &Key, value: &Stored, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _: &Key,
        value: &Stored,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The in-process response cache. Cheap to clone (clones share the cache).
#[derive(Clone)]
pub struct MemoryCache {
    cache: Cache<Key, Stored>,
    counters: Arc<Counters>,
    sealer: Sealer,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.cache.entry_count())
            .field("bytes", &self.cache.weighted_size())
            .finish_non_exhaustive()
    }
}

impl MemoryCache {
    /// A cache holding at most `max_bytes` of serialized entries.
    pub fn new(max_bytes: u64) -> Self {
        let counters = Arc::new(Counters::default());
        let listener_counters = counters.clone();
        let cache = Cache::builder()
            .name("gateway-response-cache")
            .max_capacity(max_bytes)
            .eviction_policy(EvictionPolicy::lru())
            .weigher(|_: &Key, v: &Stored| v.weight)
            .expire_after(PerEntryTtl)
            .eviction_listener(move |_, _, cause| {
                let c = &listener_counters;
                match cause {
                    RemovalCause::Size => bump(&c.evictions, 1),
                    RemovalCause::Expired => bump(&c.expirations, 1),
                    RemovalCause::Explicit => bump(&c.invalidations, 1),
                    RemovalCause::Replaced => {}
                }
            })
            .build();
        MemoryCache {
            cache,
            counters,
            sealer: Sealer::default(),
        }
    }

    /// Entries are held sealed with `cipher` (per tenant) rather than as values: a process
    /// memory dump shows no cached content, and a tenant's shredded keys make its entries
    /// misses at once.
    pub fn with_cipher(mut self, cipher: Arc<dyn ContentCipher>) -> Self {
        self.sealer = Sealer::new(Some(cipher));
        self
    }

    /// Run moka's pending maintenance (evictions, expirations, listener calls) now. It also
    /// runs on its own as the cache is used; call it for exact [`CacheBackend::stats`].
    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }

    fn remove_matching(&self, scope: &Invalidation) -> Vec<Arc<Key>> {
        self.cache
            .iter()
            .filter(|(key, _)| scope.matches(&key.tenant, &key.model_group))
            .map(|(key, _)| key)
            .collect()
    }
}

/// The scoped API; [`CacheBackend`] delegates here (inherent methods also win over the
/// core trait's same-named ones, so calls need no disambiguation).
impl MemoryCache {
    pub async fn get(&self, key: &Key) -> Result<Option<CachedResponse>, CacheError> {
        let entry = match self.cache.get(key).await.map(|s| s.entry) {
            Some(Held::Plain(entry)) => Some(CachedResponse::clone(&entry)),
            Some(Held::Sealed(bytes)) => match self.sealer.decode(key, &bytes).await {
                Ok(entry) => Some(entry),
                Err(err) => {
                    // Unreadable for good (shredded keys): drop it and miss.
                    tracing::debug!(error = %err, "sealed cache entry did not open");
                    self.cache.invalidate(key).await;
                    None
                }
            },
            None => None,
        };
        let counter = match &entry {
            Some(_) => &self.counters.hits,
            None => &self.counters.misses,
        };
        bump(counter, 1);
        Ok(entry)
    }

    pub async fn put(
        &self,
        key: &Key,
        entry: &CachedResponse,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let key_len = key.tenant.as_str().len() + key.model_group.len() + key.hash.len();
        let weight = entry.weight(key_len);
        bump(&self.counters.stores, 1);
        bump(&self.counters.bytes_written, u64::from(weight));
        let held = if self.sealer.is_sealing() {
            Held::Sealed(Arc::from(self.sealer.encode(key, entry).await?))
        } else {
            Held::Plain(Arc::new(entry.clone()))
        };
        let stored = Stored {
            entry: held,
            ttl,
            weight,
        };
        self.cache.insert(key.clone(), stored).await;
        Ok(())
    }

    pub async fn invalidate(&self, scope: &Invalidation) -> Result<u64, CacheError> {
        if *scope == Invalidation::All {
            let count = self.cache.iter().count() as u64;
            self.cache.invalidate_all();
            return Ok(count);
        }
        let keys = self.remove_matching(scope);
        for key in &keys {
            self.cache.invalidate(key.as_ref()).await;
        }
        Ok(keys.len() as u64)
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            bytes: self.cache.weighted_size(),
            entries: self.cache.entry_count(),
            ..self.counters.snapshot()
        }
    }
}

#[async_trait]
impl CacheBackend for MemoryCache {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, key: &Key) -> Result<Option<CachedResponse>, CacheError> {
        MemoryCache::get(self, key).await
    }

    async fn put(
        &self,
        key: &Key,
        entry: &CachedResponse,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        MemoryCache::put(self, key, entry, ttl).await
    }

    async fn invalidate(&self, scope: &Invalidation) -> Result<u64, CacheError> {
        MemoryCache::invalidate(self, scope).await
    }

    fn stats(&self) -> CacheStats {
        MemoryCache::stats(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{request, response};
    use gateway_core::TenantId;

    fn key(tenant: &str, model: &str, text: &str) -> Key {
        Key::derive(&TenantId::new(tenant), model, &request(text))
    }

    fn entry(text: &str) -> CachedResponse {
        CachedResponse::bare(response(text))
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn miss_then_hit_with_counters() {
        let cache = MemoryCache::new(1 << 20);
        let k = key("t", "m", "hi");
        assert_eq!(cache.get(&k).await.unwrap(), None);
        cache.put(&k, &entry("hello"), MINUTE).await.unwrap();
        assert_eq!(cache.get(&k).await.unwrap(), Some(entry("hello")));
        cache.run_pending_tasks().await;
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.stores), (1, 1, 1));
        assert_eq!(stats.entries, 1);
        assert!(stats.bytes > 100 && stats.bytes == stats.bytes_written);
    }

    #[tokio::test]
    async fn tenants_never_see_each_others_entries() {
        let cache = MemoryCache::new(1 << 20);
        let (a, b) = (key("a", "m", "same"), key("b", "m", "same"));
        assert_ne!(a, b);
        cache.put(&a, &entry("for a"), MINUTE).await.unwrap();
        assert_eq!(cache.get(&b).await.unwrap(), None);
        assert!(cache.get(&a).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn entries_expire_after_their_own_ttl() {
        let cache = MemoryCache::new(1 << 20);
        let (short, long) = (key("t", "m", "short"), key("t", "m", "long"));
        cache
            .put(&short, &entry("s"), Duration::from_secs(1))
            .await
            .unwrap();
        cache.put(&long, &entry("l"), MINUTE).await.unwrap();
        assert!(cache.get(&short).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(cache.get(&short).await.unwrap(), None);
        assert!(cache.get(&long).await.unwrap().is_some());
        cache.run_pending_tasks().await;
        assert_eq!(cache.stats().expirations, 1);
    }

    #[tokio::test]
    async fn stays_within_its_byte_bound() {
        let one = entry(&"x".repeat(1000)).weight(40) as u64;
        let cache = MemoryCache::new(one * 10);
        for i in 0..50 {
            let text = format!("{i:04}{}", "x".repeat(996));
            cache
                .put(&key("t", "m", &text), &entry(&text), MINUTE)
                .await
                .unwrap();
        }
        cache.run_pending_tasks().await;
        let stats = cache.stats();
        assert!(stats.bytes <= one * 10, "{stats:?}");
        assert!(stats.evictions >= 40, "{stats:?}");
        assert!(stats.entries <= 10, "{stats:?}");
    }

    #[tokio::test]
    async fn invalidation_by_tenant_model_and_all() {
        let cache = MemoryCache::new(1 << 20);
        let keys = [
            key("a", "m1", "q"),
            key("a", "m2", "q"),
            key("b", "m1", "q"),
            key("b", "m2", "q"),
        ];
        for k in &keys {
            cache.put(k, &entry("x"), MINUTE).await.unwrap();
        }
        let present = |c: &MemoryCache| {
            let c = c.clone();
            let keys = keys.clone();
            async move {
                let mut out = Vec::new();
                for k in &keys {
                    out.push(c.get(k).await.unwrap().is_some());
                }
                out
            }
        };
        let scope = Invalidation::tenant(&TenantId::new("a"));
        assert_eq!(cache.invalidate(&scope).await.unwrap(), 2);
        assert_eq!(present(&cache).await, [false, false, true, true]);
        assert_eq!(
            cache.invalidate(&Invalidation::model("m1")).await.unwrap(),
            1
        );
        assert_eq!(present(&cache).await, [false, false, false, true]);
        cache.put(&keys[0], &entry("x"), MINUTE).await.unwrap();
        assert_eq!(cache.invalidate(&Invalidation::All).await.unwrap(), 2);
        assert_eq!(present(&cache).await, [false; 4]);
        cache.run_pending_tasks().await;
        assert_eq!(cache.stats().invalidations, 5);
    }
}
