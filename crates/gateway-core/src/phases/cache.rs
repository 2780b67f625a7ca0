//! Phase 6: the response cache. Implemented in `gateway-cache`.

use std::time::Duration;

use async_trait::async_trait;

use crate::types::ChatResponse;

/// An opaque cache key: a hash over tenant, model group and the normalised request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(pub [u8; 32]);

#[async_trait]
pub trait ResponseCache: Send + Sync {
    async fn get(&self, key: &CacheKey) -> Option<ChatResponse>;
    async fn put(&self, key: CacheKey, response: ChatResponse, ttl: Duration);
}
