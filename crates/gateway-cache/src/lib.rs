//! `gateway-cache`: the response cache of the pipeline (phase 6). It owns exact-match cache
//! keys ([`Key`]: SHA-256 over tenant, model group and the canonicalised answer-affecting
//! request — never credentials), the caching policy ([`CachePolicy`], [`CacheDirectives`] from
//! request headers), an in-process backend bounded by bytes ([`MemoryCache`], moka) and a shared
//! one ([`RedisCache`]) behind one trait ([`CacheBackend`], also implementing
//! `gateway_core::phases::cache::ResponseCache`), invalidation by tenant, model or all,
//! propagated across instances over Redis pub/sub ([`InvalidationBus`],
//! [`spawn_invalidation_listener`]), and streams: a cached answer replayed as a well-formed chunk
//! sequence ([`replay_stream`]) and a streamed answer cached once complete ([`StreamAccumulator`],
//! [`CacheFillStream`]). It depends on `gateway-core` only, never on a sibling crate.
//!
//! Entry point: [`Cache::from_config`], then per request [`Cache::lookup`] and, on a miss,
//! [`Cache::store_detached`] or [`Cache::fill_stream`]; [`Cache::invalidate`] for the admin API.

mod accumulate;
mod backend;
mod cache;
mod canonical;
mod change_feed;
mod circuit;
mod config;
mod entry;
mod error;
mod fill;
mod invalidation;
mod key;
mod memory;
mod policy;
mod redis_store;
mod replay;
mod seal;
mod stats;

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod testing;

pub use accumulate::{StreamAccumulator, collect_stream};
pub use backend::CacheBackend;
pub use cache::{Cache, CacheFill, CacheLookup};
pub use change_feed::RedisChangeFeed;
pub use config::{
    CacheBackendKind, CacheConfig, DEFAULT_KEY_PREFIX, DEFAULT_MAX_BYTES, DEFAULT_MAX_TTL_SECS,
    DEFAULT_TTL_SECS, ModelCacheConfig, TenantCacheConfig,
};
pub use entry::{CachedResponse, Invalidation};
pub use error::CacheError;
pub use fill::CacheFillStream;
pub use gateway_core::phases::cache::ResponseCache;
pub use invalidation::{
    InvalidationBus, InvalidationListener, invalidation_channel, spawn_invalidation_listener,
};
pub use key::Key;
pub use memory::MemoryCache;
pub use policy::{
    BypassReason, CACHE_STATUS_HEADER, CACHE_TTL_HEADER, CacheDecision, CacheDirectives,
    CachePolicy, CacheStatus, cache_header_value, directives_from_headers,
};
pub use redis_store::RedisCache;
pub use replay::{replay_as_chunks, replay_chunks, replay_stream};
pub use stats::CacheStats;
