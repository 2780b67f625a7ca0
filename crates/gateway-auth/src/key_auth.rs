//! [`KeyAuthenticator`]: gateway API keys, verified against the store through an in-process
//! cache so the hot path does not wait on the store.
//!
//! Freshness bound: an entry is trusted for at most `key_cache_ttl` after the store read that
//! produced it began. Revoking or disabling a key (or its tenant) therefore takes effect on
//! every instance within `key_cache_ttl` — a key's verdict never outlives the cached tenant
//! it was built on, so a tenant change is bounded by one TTL too, not two — at once on the
//! instance that made the change (it invalidates its own cache, see [`crate::KeyManager`]),
//! and within milliseconds on the others when a change feed is configured (see
//! [`crate::AuthStack::with_change_feed`]). Hot keys never wait: past half
//! their TTL an entry is refreshed in the background while it keeps serving.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use gateway_core::client_networks::ClientNetworks;
use gateway_core::phases::auth::Authenticator;
use gateway_core::store::{KeyStore, TenantStore, unix_millis};
use gateway_core::{AuthMethod, GatewayError, Principal, TenantId};

use crate::apikey::{ApiKeys, KeyHash};
use crate::cache::{Stamped, TtlCache};
use crate::config::AuthConfig;
use crate::error::{AuthError, refuse};
use crate::tenants::{TenantGate, narrow};

/// Cache tuning of a [`KeyAuthenticator`] (from [`AuthConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCacheSettings {
    pub ttl: Duration,
    pub negative_ttl: Duration,
    pub capacity: u64,
    pub last_used_interval: Duration,
}

impl Default for KeyCacheSettings {
    fn default() -> Self {
        KeyCacheSettings::from_config(&AuthConfig::default())
    }
}

impl KeyCacheSettings {
    pub fn from_config(c: &AuthConfig) -> Self {
        KeyCacheSettings {
            ttl: Duration::from_secs(c.key_cache_ttl_secs.max(1)),
            negative_ttl: Duration::from_secs(c.negative_cache_ttl_secs),
            capacity: c.key_cache_capacity.max(1),
            last_used_interval: Duration::from_secs(c.last_used_interval_secs),
        }
    }
}

/// A validated key, as cached.
struct ValidKey {
    key_id: String,
    expires_at: Option<SystemTime>,
    principal: Principal,
    /// Unix ms of the last `last_used_at` write this instance knows of.
    last_touch_ms: AtomicI64,
    refreshing: AtomicBool,
}

#[derive(Clone)]
enum Entry {
    Valid(Arc<ValidKey>),
    /// Refused; the reason is kept for logs only.
    Refused(AuthError),
}

struct Inner {
    keys: Arc<dyn KeyStore>,
    tenants: TenantGate,
    hasher: ApiKeys,
    cache: TtlCache<KeyHash, Entry>,
    settings: KeyCacheSettings,
    /// Bumped by every local invalidation: a load that overlaps one is not trusted beyond
    /// the request that made it (it may have read the store before the change).
    generation: AtomicU64,
}

/// Authenticates gateway-issued API keys. Cheap to clone (shared state).
#[derive(Clone)]
pub struct KeyAuthenticator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for KeyAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyAuthenticator")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl KeyAuthenticator {
    pub fn new(
        keys: Arc<dyn KeyStore>,
        tenants: Arc<dyn TenantStore>,
        hasher: ApiKeys,
        settings: KeyCacheSettings,
    ) -> Self {
        let tenants = TenantGate::new(tenants, settings.ttl, settings.capacity.min(100_000));
        let cache = TtlCache::new(settings.capacity);
        KeyAuthenticator {
            inner: Arc::new(Inner {
                keys,
                tenants,
                hasher,
                cache,
                settings,
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// From the `[auth]` section: pepper and cache settings.
    pub fn from_config(
        config: &AuthConfig,
        keys: Arc<dyn KeyStore>,
        tenants: Arc<dyn TenantStore>,
    ) -> Self {
        Self::new(
            keys,
            tenants,
            ApiKeys::new(config.pepper.as_ref()),
            KeyCacheSettings::from_config(config),
        )
    }

    /// The hasher this authenticator checks keys with (to issue keys it will accept).
    pub fn hasher(&self) -> &ApiKeys {
        &self.inner.hasher
    }

    /// Forgets the cached verdict for the key with this stored hash (after a local change).
    pub async fn invalidate_hash(&self, stored_hash: &str) {
        let mut bytes = [0u8; 32];
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        if hex::decode_to_slice(stored_hash, &mut bytes).is_ok() {
            self.inner.cache.invalidate(&KeyHash(bytes)).await;
        }
    }

    /// Forgets the tenant and every cached key verdict (after a local tenant change).
    pub async fn invalidate_tenant(&self, tenant: &TenantId) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        self.inner.tenants.invalidate(tenant).await;
        self.inner.cache.invalidate_all();
    }

    /// Forgets every cached tenant and key verdict (after the whole key set was replaced,
    /// e.g. the edge profile's signed file reloaded).
    pub fn invalidate_all(&self) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        self.inner.tenants.invalidate_all();
        self.inner.cache.invalidate_all();
    }

    /// Like [`Authenticator::authenticate`], with the precise reason of a refusal (for
    /// audit and metrics; never for the caller).
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        if !ApiKeys::is_well_formed(token) {
            return Err(AuthError::Malformed);
        }
        let hash = self.inner.hasher.hash(token);
        // A hit never builds the loader: its future (a store query, kilobytes large) and
        // the cache's loading machinery would otherwise sit in this future's state and be
        // copied with it on every call. The rare miss is boxed.
        let entry = match self.inner.cache.get_fresh(&hash).await {
            Some(hit) => hit,
            None => Box::pin(
                self.inner
                    .cache
                    .get_or_load(hash, Inner::load(self.inner.clone(), hash)),
            )
            .await
            .map_err(|e| (*e).clone())?,
        };
        let valid = match &entry.value {
            Entry::Valid(v) => v.clone(),
            Entry::Refused(reason) => return Err(reason.clone()),
        };
        let now = SystemTime::now();
        if valid.expires_at.is_some_and(|exp| now >= exp) {
            return Err(AuthError::KeyNotUsable {
                tenant: valid.principal.tenant.clone(),
            });
        }
        if entry.age() >= entry.ttl / 2 {
            self.refresh_in_background(hash, &valid);
        }
        self.touch_if_due(&valid, now);
        Ok(valid.principal.clone())
    }

    fn refresh_in_background(&self, hash: KeyHash, valid: &Arc<ValidKey>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if valid.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = self.inner.clone();
        let valid = valid.clone();
        runtime.spawn(async move {
            let loaded_at = tokio::time::Instant::now();
            match Inner::load(inner.clone(), hash).await {
                Ok((value, ttl)) => {
                    inner
                        .cache
                        .insert(
                            hash,
                            Stamped {
                                value,
                                loaded_at,
                                ttl,
                            },
                        )
                        .await
                }
                // Keep serving the entry until it expires; the next request retries.
                Err(_) => valid.refreshing.store(false, Ordering::Release),
            }
        });
    }

    /// Writes `last_used_at` off the request path, at most once per interval per key.
    fn touch_if_due(&self, valid: &Arc<ValidKey>, now: SystemTime) {
        let now_ms = unix_millis(now);
        let interval_ms =
            i64::try_from(self.inner.settings.last_used_interval.as_millis()).unwrap_or(i64::MAX);
        let last = valid.last_touch_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < interval_ms {
            return;
        }
        if valid
            .last_touch_ms
            .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let keys = self.inner.keys.clone();
        let key_id = valid.key_id.clone();
        runtime.spawn(async move {
            if let Err(e) = keys.touch_key_last_used(&key_id, now).await {
                tracing::debug!(key_id, error = %e, "could not record key use");
            }
        });
    }
}

impl Inner {
    /// The verdict for one key hash, and how long to trust it.
    async fn load(inner: Arc<Inner>, hash: KeyHash) -> Result<(Entry, Duration), AuthError> {
        let generation = inner.generation.load(Ordering::Acquire);
        let (entry, ttl) = Self::read(&inner, hash).await?;
        if inner.generation.load(Ordering::Acquire) != generation {
            // A local change raced with this read: answer this request, cache nothing.
            return Ok((entry, Duration::ZERO));
        }
        Ok((entry, ttl))
    }

    async fn read(inner: &Inner, hash: KeyHash) -> Result<(Entry, Duration), AuthError> {
        let refused = |reason| Ok((Entry::Refused(reason), inner.settings.negative_ttl));
        let record = inner
            .keys
            .get_key_by_hash(&hash.to_hex())
            .await
            .map_err(AuthError::Store)?;
        let Some(record) = record else {
            return refused(AuthError::UnknownKey);
        };
        // The store matched by index; confirm in constant time before trusting the row.
        if !hash.matches_hex(&record.hash) {
            return refused(AuthError::UnknownKey);
        }
        if !record.is_usable_at(SystemTime::now()) {
            return refused(AuthError::KeyNotUsable {
                tenant: record.tenant.clone(),
            });
        }
        let (tenant, tenant_remaining) = match inner.tenants.admit_fresh(&record.tenant, true).await
        {
            Ok(t) => t,
            Err(e @ AuthError::Store(_)) => return Err(e),
            Err(reason) => return refused(reason),
        };
        let principal = Principal {
            tenant: record.tenant.clone(),
            subject: Arc::from(record.id.as_str()),
            roles: Arc::from(record.roles.as_slice()),
            allowed_models: narrow(
                tenant.allowed_models.as_deref(),
                record.allowed_models.as_deref(),
            )
            .map(Arc::from),
            allowed_regions: narrow(
                tenant.allowed_regions.as_deref(),
                key_regions(&record.metadata).as_deref(),
            )
            .map(Arc::from),
            method: AuthMethod::ApiKey,
            key_limits: Some(Arc::new(record.limits.clone())),
            tenant_limits: Some(Arc::new(tenant.limits.clone())),
            client_networks: ClientNetworks::from_lists(
                record.allowed_networks.as_deref(),
                tenant.allowed_networks.as_deref(),
            ),
            threat_intel_opt_out: tenant.threat_intel_opt_out,
        };
        let valid = ValidKey {
            key_id: record.id,
            expires_at: record.expires_at,
            principal,
            last_touch_ms: AtomicI64::new(record.last_used_at.map_or(i64::MIN, unix_millis)),
            refreshing: AtomicBool::new(false),
        };
        // Never trust the verdict longer than the tenant entry it was built on.
        let ttl = inner.settings.ttl.min(tenant_remaining);
        Ok((Entry::Valid(Arc::new(valid)), ttl))
    }
}

#[async_trait]
impl Authenticator for KeyAuthenticator {
    async fn authenticate(&self, token: &str) -> Result<Principal, GatewayError> {
        self.verify(token).await.map_err(refuse)
    }
}

/// Data residency per key: `metadata.allowed_regions`, an array of region tags, narrows the
/// tenant's regions. Anything but an array of strings pins the key to no region at all, so a
/// malformed value fails closed rather than lifting the restriction.
fn key_regions(metadata: &serde_json::Value) -> Option<Vec<String>> {
    let value = metadata.get("allowed_regions")?;
    let regions = value.as_array().and_then(|list| {
        list.iter()
            .map(|r| r.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
    });
    Some(regions.unwrap_or_default())
}

#[cfg(test)]
mod region_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_regions_come_from_metadata_and_fail_closed() {
        assert_eq!(key_regions(&json!({})), None);
        assert_eq!(
            key_regions(&json!({"allowed_regions": ["eu"]})),
            Some(vec!["eu".to_owned()])
        );
        assert_eq!(key_regions(&json!({"allowed_regions": "eu"})), Some(vec![]));
        assert_eq!(
            key_regions(&json!({"allowed_regions": ["eu", 3]})),
            Some(vec![])
        );
        assert_eq!(
            narrow(
                Some(&["eu".to_owned(), "us".to_owned()]),
                Some(&["us".to_owned()])
            ),
            Some(vec!["us".to_owned()])
        );
    }
}
