//! Phase 6: the response cache. Implemented in `gateway-cache`.
//!
//! The pipeline asks the cache once per request ([`ResponseCache::lookup`], after the input
//! guardrails so the key covers the redacted request). A hit is answered without calling the
//! upstream (streams are replayed) and still passes the output guardrails; a miss carries a
//! [`CacheFill`] that stores the answer once it is complete and has passed them.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::context::RequestContext;
use crate::phases::route::ServedBy;
use crate::provider::ChatStream;
use crate::types::{ChatRequest, ChatResponse};

/// What the caller asked of the cache (from `cache-control`, `x-gateway-cache`,
/// `x-gateway-cache-ttl`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheDirectives {
    /// Do not answer from the cache, but store the fresh answer (refresh).
    pub no_cache: bool,
    /// Neither read nor write.
    pub no_store: bool,
    /// TTL of the entry this request may create (bounded by policy).
    pub ttl: Option<Duration>,
}

/// What the cache did, for the `x-gateway-cache` header, usage and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheStatus {
    Hit,
    Miss,
    Bypass,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "hit",
            CacheStatus::Miss => "miss",
            CacheStatus::Bypass => "bypass",
        }
    }
}

/// A cached answer and the deployment that produced it (to price what the hit saved).
#[derive(Debug, Clone, PartialEq)]
pub struct CachedAnswer {
    pub response: ChatResponse,
    pub provider: Option<Arc<str>>,
    pub upstream_model: Option<Arc<str>>,
}

/// Where a fresh answer goes once complete. Dropping it stores nothing.
pub trait CacheFill: Send + Sync {
    /// Store a complete, guardrail-approved answer (in the background).
    fn store(self: Box<Self>, response: ChatResponse, served_by: &ServedBy);
    /// Wrap the upstream stream so that its answer is stored once it completes — never a
    /// partial, failed or abandoned one.
    fn wrap_stream(self: Box<Self>, stream: ChatStream, served_by: &ServedBy) -> ChatStream;
}

/// The outcome of a lookup.
pub enum CacheLookup {
    /// Answer with this; do not call the upstream.
    Hit(Box<CachedAnswer>),
    /// Call the upstream, then fill.
    Miss(Box<dyn CacheFill>),
    /// Call the upstream; fill only when set (a refresh).
    Bypass(Option<Box<dyn CacheFill>>),
    /// The cache does not apply to this tenant or model.
    Skip,
}

impl CacheLookup {
    pub fn status(&self) -> Option<CacheStatus> {
        match self {
            CacheLookup::Hit(_) => Some(CacheStatus::Hit),
            CacheLookup::Miss(_) => Some(CacheStatus::Miss),
            CacheLookup::Bypass(_) => Some(CacheStatus::Bypass),
            CacheLookup::Skip => None,
        }
    }
}

impl std::fmt::Debug for CacheLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.status().map_or("skip", CacheStatus::as_str))
    }
}

#[async_trait]
pub trait ResponseCache: Send + Sync {
    /// Decide (policy, directives) and look up; never fails (a backend error is a miss).
    /// The tenant is `ctx.principal.tenant`, the model group `req.model`.
    async fn lookup(&self, ctx: &RequestContext, req: &ChatRequest) -> CacheLookup;

    /// A cached answer as a well-formed stream (usage included; the pipeline strips it when
    /// the caller did not ask).
    fn replay(&self, response: &ChatResponse) -> ChatStream;
}
