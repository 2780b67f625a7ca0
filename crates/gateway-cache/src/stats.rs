//! Cache counters: lock-free atomics updated on the request path, read as a snapshot by the
//! metrics exporter.

use std::sync::atomic::{AtomicU64, Ordering};

/// A point-in-time view of one cache's counters (counters are cumulative since start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that found nothing (or failed: a Redis error counts as a miss and an error).
    pub misses: u64,
    /// Requests the cache applied to but did not answer (headers, temperature).
    pub bypasses: u64,
    /// Entries written.
    pub stores: u64,
    /// Memory backend: entries removed to stay within `max_bytes`.
    pub evictions: u64,
    /// Memory backend: entries removed because their TTL passed.
    pub expirations: u64,
    /// Entries removed by invalidation (admin API, local or propagated).
    pub invalidations: u64,
    /// Bytes of entries written (cumulative).
    pub bytes_written: u64,
    /// Memory backend: bytes currently held (0 for Redis, whose memory Redis reports).
    pub bytes: u64,
    /// Memory backend: entries currently held (0 for Redis).
    pub entries: u64,
    /// Backend errors (Redis unreachable or too slow, undecodable entries). Calls skipped
    /// while Redis is presumed down are not errors (they are misses or skipped stores).
    pub errors: u64,
    /// Redis backend: its last call failed and no probe has succeeded since (the cache is
    /// off meanwhile: lookups miss, stores are skipped).
    pub backend_down: bool,
}

impl CacheStats {
    /// Counters of two caches (or a cache and the layer above it) added together.
    pub fn merged(self, o: CacheStats) -> CacheStats {
        CacheStats {
            hits: self.hits + o.hits,
            misses: self.misses + o.misses,
            bypasses: self.bypasses + o.bypasses,
            stores: self.stores + o.stores,
            evictions: self.evictions + o.evictions,
            expirations: self.expirations + o.expirations,
            invalidations: self.invalidations + o.invalidations,
            bytes_written: self.bytes_written + o.bytes_written,
            bytes: self.bytes + o.bytes,
            entries: self.entries + o.entries,
            errors: self.errors + o.errors,
            backend_down: self.backend_down || o.backend_down,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub bypasses: AtomicU64,
    pub stores: AtomicU64,
    pub evictions: AtomicU64,
    pub expirations: AtomicU64,
    pub invalidations: AtomicU64,
    pub bytes_written: AtomicU64,
    pub errors: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

impl Counters {
    /// Snapshot; `bytes` and `entries` are the backend's to fill in.
    pub fn snapshot(&self) -> CacheStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheStats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            bypasses: get(&self.bypasses),
            stores: get(&self.stores),
            evictions: get(&self.evictions),
            expirations: get(&self.expirations),
            invalidations: get(&self.invalidations),
            bytes_written: get(&self.bytes_written),
            bytes: 0,
            entries: 0,
            errors: get(&self.errors),
            backend_down: false,
        }
    }
}
