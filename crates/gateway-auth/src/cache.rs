//! A bounded in-process cache whose entries carry their own time to live, measured on tokio's
//! clock (so tests can run it under `tokio::time::pause`). moka holds the entries, bounds the
//! memory and evicts expired ones; freshness is decided here from `loaded_at`.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use moka::Expiry;
use tokio::time::Instant;

/// A cached value and when its load started (the conservative end of its age).
#[derive(Debug, Clone)]
pub(crate) struct Stamped<V> {
    pub value: V,
    pub loaded_at: Instant,
    pub ttl: Duration,
}

impl<V> Stamped<V> {
    pub(crate) fn is_fresh(&self) -> bool {
        self.loaded_at.elapsed() < self.ttl
    }

    pub(crate) fn age(&self) -> Duration {
        self.loaded_at.elapsed()
    }
}

struct StampExpiry;

impl<K, V> Expiry<K, Stamped<V>> for StampExpiry {
    fn expire_after_create(
        &self,
        _: &K,
        value: &Stamped<V>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _: &K,
        value: &Stamped<V>,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

pub(crate) struct TtlCache<K, V> {
    inner: moka::future::Cache<K, Stamped<V>>,
}

impl<K, V> TtlCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new(capacity: u64) -> Self {
        TtlCache {
            inner: moka::future::Cache::builder()
                .max_capacity(capacity)
                .expire_after(StampExpiry)
                .build(),
        }
    }

    /// The entry, if present and fresh.
    pub(crate) async fn get_fresh(&self, key: &K) -> Option<Stamped<V>> {
        self.inner.get(key).await.filter(Stamped::is_fresh)
    }

    /// The fresh entry, or the result of `load` (`(value, ttl)`), coalescing concurrent loads
    /// of one key. Errors are not cached.
    pub(crate) async fn get_or_load<E, F>(&self, key: K, load: F) -> Result<Stamped<V>, Arc<E>>
    where
        K: Clone,
        E: Send + Sync + 'static,
        F: Future<Output = Result<(V, Duration), E>>,
    {
        if let Some(hit) = self.get_fresh(&key).await {
            return Ok(hit);
        }
        // A stale entry (possible when tokio's clock runs ahead of moka's): drop it first.
        self.inner.remove(&key).await;
        self.inner
            .try_get_with(key, async move {
                let loaded_at = Instant::now();
                let (value, ttl) = load.await?;
                Ok(Stamped {
                    value,
                    loaded_at,
                    ttl,
                })
            })
            .await
    }

    pub(crate) async fn insert(&self, key: K, value: Stamped<V>) {
        self.inner.insert(key, value).await;
    }

    pub(crate) async fn invalidate(&self, key: &K) {
        self.inner.invalidate(key).await;
    }

    pub(crate) fn invalidate_all(&self) {
        self.inner.invalidate_all();
    }
}
