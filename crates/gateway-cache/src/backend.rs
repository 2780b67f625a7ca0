//! [`CacheBackend`]: the storage interface both backends implement, with scoped keys and
//! invalidation. It is what `gateway_core::phases::cache::ResponseCache` is proposed to become;
//! the pipeline reaches them through [`crate::Cache`], which implements the core trait.

use std::time::Duration;

use async_trait::async_trait;

use crate::entry::{CachedResponse, Invalidation};
use crate::error::CacheError;
use crate::key::Key;
use crate::stats::CacheStats;

#[async_trait]
pub trait CacheBackend: Send + Sync + 'static {
    /// `"memory"` or `"redis"` (for logs and metrics labels).
    fn name(&self) -> &'static str;

    /// The entry under `key`, if it is present and unexpired. Counts a hit or a miss.
    async fn get(&self, key: &Key) -> Result<Option<CachedResponse>, CacheError>;

    /// Store `entry` under `key` for `ttl`, replacing what was there.
    async fn put(&self, key: &Key, entry: &CachedResponse, ttl: Duration)
    -> Result<(), CacheError>;

    /// Remove every entry in `scope`; returns how many were removed.
    async fn invalidate(&self, scope: &Invalidation) -> Result<u64, CacheError>;

    fn stats(&self) -> CacheStats;
}
