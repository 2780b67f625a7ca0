//! [`Cache`]: the cache phase as the pipeline uses it — policy, key, backend, stream fill and
//! invalidation (propagated to the other instances) behind a handful of calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use gateway_core::encryption::ContentCipher;
use gateway_core::phases::cache::{
    CacheFill as CoreCacheFill, CacheLookup as CoreLookup, CachedAnswer, ResponseCache,
};
use gateway_core::phases::route::ServedBy;
use gateway_core::{ChatRequest, ChatResponse, TenantId};
use gateway_core::{ChatStream, RequestContext};

use crate::backend::CacheBackend;
use crate::config::{CacheBackendKind, CacheConfig};
use crate::entry::{CachedResponse, Invalidation};
use crate::error::CacheError;
use crate::fill::{CacheFillStream, PendingFill};
use crate::invalidation::{InvalidationBus, InvalidationListener, spawn_invalidation_listener};
use crate::key::Key;
use crate::memory::MemoryCache;
use crate::policy::{BypassReason, CacheDecision, CacheDirectives, CachePolicy, CacheStatus};
use crate::redis_store::RedisCache;
use crate::replay::replay_stream;
use crate::stats::{CacheStats, bump};

/// Where the fresh answer of a request goes once it is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheFill {
    pub key: Key,
    pub ttl: Duration,
}

/// The outcome of [`Cache::lookup`].
#[derive(Debug, Clone, PartialEq)]
pub enum CacheLookup {
    /// Serve this answer; do not call upstream.
    Hit(Box<CachedResponse>),
    /// Call upstream, then store the answer with this fill.
    Miss(CacheFill),
    /// Call upstream; store the answer only if `fill` is set (a refresh).
    Bypass {
        reason: BypassReason,
        fill: Option<CacheFill>,
    },
    /// The cache does not apply to this tenant or model group.
    Skip,
}

impl CacheLookup {
    /// The `x-gateway-cache` header value; `None` when the cache does not apply.
    pub fn status(&self) -> Option<CacheStatus> {
        match self {
            CacheLookup::Hit(_) => Some(CacheStatus::Hit),
            CacheLookup::Miss(_) => Some(CacheStatus::Miss),
            CacheLookup::Bypass { .. } => Some(CacheStatus::Bypass),
            CacheLookup::Skip => None,
        }
    }

    /// Where the fresh answer should be stored, if anywhere.
    pub fn into_fill(self) -> Option<CacheFill> {
        match self {
            CacheLookup::Miss(fill) => Some(fill),
            CacheLookup::Bypass { fill, .. } => fill,
            CacheLookup::Hit(_) | CacheLookup::Skip => None,
        }
    }
}

/// The response cache of one gateway instance.
pub struct Cache {
    backend: Arc<dyn CacheBackend>,
    policy: CachePolicy,
    bus: Option<InvalidationBus>,
    _listener: Option<InvalidationListener>,
    bypasses: AtomicU64,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.backend.name())
            .field("propagates_invalidations", &self.bus.is_some())
            .finish_non_exhaustive()
    }
}

fn memory(cfg: &CacheConfig, cipher: Option<Arc<dyn ContentCipher>>) -> MemoryCache {
    let memory = MemoryCache::new(cfg.max_bytes);
    match cipher {
        Some(c) => memory.with_cipher(c),
        None => memory,
    }
}

impl Cache {
    pub fn new(backend: Arc<dyn CacheBackend>, policy: CachePolicy) -> Self {
        Cache {
            backend,
            policy,
            bus: None,
            _listener: None,
            bypasses: AtomicU64::new(0),
        }
    }

    /// Publish every invalidation to the other instances.
    pub fn with_invalidation_bus(mut self, bus: InvalidationBus) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Keep `listener` (which applies other instances' invalidations) alive with the cache.
    pub fn with_listener(mut self, listener: InvalidationListener) -> Self {
        self._listener = Some(listener);
        self
    }

    /// The cache `cfg` describes; `None` when it is disabled. With the memory backend and a
    /// `redis_url`, invalidations are published to and received from the other instances.
    /// Fails only if the configuration is invalid: a Redis that cannot be reached now starts
    /// the cache degraded (off: lookups miss) until it answers.
    pub async fn from_config(cfg: &CacheConfig) -> Result<Option<Arc<Cache>>, CacheError> {
        Self::from_config_sealed(cfg, None).await
    }

    /// [`Cache::from_config`], with entries sealed per tenant by `cipher` in either backend.
    pub async fn from_config_sealed(
        cfg: &CacheConfig,
        cipher: Option<Arc<dyn ContentCipher>>,
    ) -> Result<Option<Arc<Cache>>, CacheError> {
        if !cfg.enabled {
            return Ok(None);
        }
        let problems = cfg.problems("cache");
        if !problems.is_empty() {
            let list: Vec<String> = problems.iter().map(|(k, m)| format!("{k} {m}")).collect();
            return Err(CacheError::Config(list.join("; ")));
        }
        let policy = CachePolicy::from_config(cfg);
        let url = cfg.redis_url.as_deref();
        let cache = match (cfg.backend, url) {
            (CacheBackendKind::Redis, Some(url)) => {
                let mut redis = RedisCache::new(
                    url,
                    &cfg.key_prefix,
                    cfg.redis_timeout(),
                    cfg.redis_retry_interval(),
                )?;
                if let Some(c) = &cipher {
                    redis = redis.with_cipher(c.clone());
                }
                if let Err(err) = redis.ping().await {
                    tracing::warn!(error = %err, "response cache: Redis unreachable at start; the cache is off until it answers");
                }
                Cache::new(Arc::new(redis), policy)
            }
            (CacheBackendKind::Redis, None) => {
                return Err(CacheError::Config("cache.redis_url is required".to_owned()));
            }
            (CacheBackendKind::Memory, None) => Cache::new(Arc::new(memory(cfg, cipher)), policy),
            (CacheBackendKind::Memory, Some(url)) => {
                let memory: Arc<dyn CacheBackend> = Arc::new(memory(cfg, cipher));
                let bus = InvalidationBus::new(url, &cfg.key_prefix, cfg.redis_timeout())?;
                let listener =
                    spawn_invalidation_listener(url, &cfg.key_prefix, memory.clone()).await?;
                Cache::new(memory, policy)
                    .with_invalidation_bus(bus)
                    .with_listener(listener)
            }
        };
        tracing::info!(backend = cfg.backend.as_str(), "response cache enabled");
        Ok(Some(Arc::new(cache)))
    }

    pub fn policy(&self) -> &CachePolicy {
        &self.policy
    }

    pub fn backend(&self) -> &Arc<dyn CacheBackend> {
        &self.backend
    }

    /// Decide and, where allowed, look up. Never fails: a backend error is a miss.
    pub async fn lookup(
        &self,
        tenant: &TenantId,
        model_group: &str,
        req: &ChatRequest,
        directives: &CacheDirectives,
    ) -> CacheLookup {
        let ttl = match self.policy.decide(tenant, model_group, req, directives) {
            CacheDecision::Skip => return CacheLookup::Skip,
            CacheDecision::Bypass(reason) => {
                bump(&self.bypasses, 1);
                let fill = match reason {
                    BypassReason::Refresh { ttl } => Some(CacheFill {
                        key: Key::derive(tenant, model_group, req),
                        ttl,
                    }),
                    _ => None,
                };
                return CacheLookup::Bypass { reason, fill };
            }
            CacheDecision::Lookup { ttl } => ttl,
        };
        let key = Key::derive(tenant, model_group, req);
        match self.backend.get(&key).await {
            Ok(Some(entry)) => CacheLookup::Hit(Box::new(entry)),
            Ok(None) => CacheLookup::Miss(CacheFill { key, ttl }),
            Err(err) => {
                warn_throttled("response cache lookup failed; treating as a miss", &err);
                CacheLookup::Miss(CacheFill { key, ttl })
            }
        }
    }

    /// Store a fresh answer (skipped unless complete: see [`CachedResponse::is_cacheable`]).
    /// Never fails: errors are logged and counted.
    pub async fn store(&self, fill: &CacheFill, entry: &CachedResponse) {
        store_entry(self.backend.as_ref(), fill, entry).await;
    }

    /// [`Cache::store`] in the background, so the response is not held up by the write.
    pub fn store_detached(&self, fill: CacheFill, entry: CachedResponse) {
        let backend = self.backend.clone();
        tokio::spawn(async move { store_entry(backend.as_ref(), &fill, &entry).await });
    }

    /// Wrap an answer stream (a `ChatStream` from the router, below the output guardrails,
    /// where the usage chunk is still present) so that its answer is stored once it completes.
    /// With `fill = None` the stream is passed through untouched.
    pub fn fill_stream<S>(
        &self,
        stream: S,
        fill: Option<CacheFill>,
        served_by: Option<&ServedBy>,
    ) -> CacheFillStream<S> {
        let pending = fill.map(|fill| PendingFill {
            backend: self.backend.clone(),
            fill,
            provider: served_by.map(|s| s.provider.clone()),
            upstream_model: served_by.map(|s| s.upstream_model.clone()),
        });
        CacheFillStream::new(stream, pending)
    }

    /// Remove the entries in `scope` here (the shared store, for Redis) and tell the other
    /// instances. Returns the entries removed here. Both steps are attempted; an error in
    /// either is returned so the operator can retry.
    pub async fn invalidate(&self, scope: &Invalidation) -> Result<u64, CacheError> {
        let local = self.backend.invalidate(scope).await;
        let published = match &self.bus {
            Some(bus) => bus.publish(scope).await.map(|_| ()),
            None => Ok(()),
        };
        let removed = local?;
        published?;
        tracing::info!(?scope, removed, "response cache invalidated");
        Ok(removed)
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            bypasses: self.bypasses.load(Ordering::Relaxed),
            ..CacheStats::default()
        }
        .merged(self.backend.stats())
    }
}

pub(crate) async fn store_entry(
    backend: &dyn CacheBackend,
    fill: &CacheFill,
    entry: &CachedResponse,
) {
    if !entry.is_cacheable() {
        tracing::debug!("answer incomplete or filtered; not cached");
        return;
    }
    if let Err(err) = backend.put(&fill.key, entry, fill.ttl).await {
        warn_throttled("response cache store failed", &err);
    }
}

/// Warn at most once every ten seconds: when Redis is down every request would otherwise log.
fn warn_throttled(what: &str, err: &CacheError) {
    static LAST_WARN_SECS: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST_WARN_SECS.load(Ordering::Relaxed);
    if now >= last + 10
        && LAST_WARN_SECS
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(error = %err, "{what}");
    } else {
        tracing::debug!(error = %err, "{what}");
    }
}

/// Where one request's fresh answer goes, as the pipeline's [`CoreCacheFill`].
struct PipelineFill {
    backend: Arc<dyn CacheBackend>,
    fill: CacheFill,
}

impl CoreCacheFill for PipelineFill {
    fn store(self: Box<Self>, response: ChatResponse, served_by: &ServedBy) {
        let entry = CachedResponse::new(response, Some(served_by));
        let (backend, fill) = (self.backend, self.fill);
        tokio::spawn(async move { store_entry(backend.as_ref(), &fill, &entry).await });
    }

    fn wrap_stream(self: Box<Self>, stream: ChatStream, served_by: &ServedBy) -> ChatStream {
        let pending = PendingFill {
            backend: self.backend,
            fill: self.fill,
            provider: Some(served_by.provider.clone()),
            upstream_model: Some(served_by.upstream_model.clone()),
        };
        Box::pin(CacheFillStream::new(stream, Some(pending)))
    }
}

/// The pipeline's cache phase: tenant from the principal, model group from the request,
/// directives from the edge.
#[async_trait]
impl ResponseCache for Cache {
    async fn lookup(&self, ctx: &RequestContext, req: &ChatRequest) -> CoreLookup {
        let boxed = |fill: CacheFill| -> Box<dyn CoreCacheFill> {
            Box::new(PipelineFill {
                backend: self.backend.clone(),
                fill,
            })
        };
        match Cache::lookup(self, &ctx.principal.tenant, &req.model, req, &ctx.cache).await {
            CacheLookup::Hit(entry) => CoreLookup::Hit(Box::new(CachedAnswer {
                response: entry.response,
                provider: entry.provider,
                upstream_model: entry.upstream_model,
            })),
            CacheLookup::Miss(fill) => CoreLookup::Miss(boxed(fill)),
            CacheLookup::Bypass { fill, .. } => CoreLookup::Bypass(fill.map(boxed)),
            CacheLookup::Skip => CoreLookup::Skip,
        }
    }

    fn replay(&self, response: &ChatResponse) -> ChatStream {
        replay_stream(response, true)
    }
}
