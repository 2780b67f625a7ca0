//! The tenant check shared by both authenticators: the tenant must exist and be enabled, and
//! its model and region allow-lists narrow the principal's.

use std::sync::Arc;
use std::time::Duration;

use gateway_core::store::{Tenant, TenantStore};
use gateway_core::{GatewayError, TenantId};

use crate::cache::TtlCache;
use crate::error::AuthError;

/// Cached tenant lookups (present and absent alike) for `ttl`.
#[derive(Clone)]
pub(crate) struct TenantGate {
    store: Arc<dyn TenantStore>,
    cache: Arc<TtlCache<TenantId, Option<Arc<Tenant>>>>,
    ttl: Duration,
}

impl TenantGate {
    pub(crate) fn new(store: Arc<dyn TenantStore>, ttl: Duration, capacity: u64) -> Self {
        TenantGate {
            store,
            cache: Arc::new(TtlCache::new(capacity)),
            ttl,
        }
    }

    /// The tenant if it exists and is enabled.
    pub(crate) async fn admit(&self, id: &TenantId) -> Result<Arc<Tenant>, AuthError> {
        self.admit_fresh(id, false).await.map(|(t, _)| t)
    }

    /// Like [`TenantGate::admit`], with how much longer the cached tenant may be trusted: a
    /// verdict built on it must not outlive it, or a tenant change would take up to twice
    /// the TTL to reach a cached key (the key entry expiring only after the tenant entry).
    /// With `refresh_ahead` (off the request path: key loads), a tenant entry past half its
    /// TTL is read again, so that a refreshed key verdict gets a useful lifetime.
    pub(crate) async fn admit_fresh(
        &self,
        id: &TenantId,
        refresh_ahead: bool,
    ) -> Result<(Arc<Tenant>, Duration), AuthError> {
        if refresh_ahead
            && self
                .cache
                .get_fresh(id)
                .await
                .is_some_and(|e| e.age() >= e.ttl / 2)
        {
            self.cache.invalidate(id).await;
        }
        let store = self.store.clone();
        let ttl = self.ttl;
        let lookup_id = id.clone();
        let entry = self
            .cache
            .get_or_load(id.clone(), async move {
                let tenant = store.get_tenant(&lookup_id).await?;
                Ok::<_, GatewayError>((tenant.map(Arc::new), ttl))
            })
            .await
            .map_err(|e| AuthError::Store((*e).clone()))?;
        let remaining = entry.ttl.saturating_sub(entry.age());
        match entry.value {
            Some(t) if t.enabled => Ok((t, remaining)),
            _ => Err(AuthError::TenantNotUsable { tenant: id.clone() }),
        }
    }

    pub(crate) async fn invalidate(&self, id: &TenantId) {
        self.cache.invalidate(id).await;
    }

    pub(crate) fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }
}

/// The narrower of two allow-lists (`None` = everything; `"*"` inside a list = everything).
pub(crate) fn narrow(outer: Option<&[String]>, inner: Option<&[String]>) -> Option<Vec<String>> {
    let is_all = |l: &[String]| l.iter().any(|m| m == "*");
    match (outer, inner) {
        (None, None) => None,
        (Some(l), None) | (None, Some(l)) => Some(l.to_vec()),
        (Some(o), Some(i)) if is_all(o) => Some(i.to_vec()),
        (Some(o), Some(i)) if is_all(i) => Some(o.to_vec()),
        (Some(o), Some(i)) => Some(i.iter().filter(|m| o.contains(m)).cloned().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn narrowing() {
        assert_eq!(narrow(None, None), None);
        assert_eq!(narrow(Some(&l(&["a"])), None), Some(l(&["a"])));
        assert_eq!(narrow(None, Some(&l(&["b"]))), Some(l(&["b"])));
        assert_eq!(
            narrow(Some(&l(&["a", "b"])), Some(&l(&["b", "c"]))),
            Some(l(&["b"]))
        );
        assert_eq!(narrow(Some(&l(&["*"])), Some(&l(&["c"]))), Some(l(&["c"])));
        assert_eq!(narrow(Some(&l(&["a"])), Some(&l(&["*"]))), Some(l(&["a"])));
        assert_eq!(narrow(Some(&l(&["a"])), Some(&l(&["c"]))), Some(vec![]));
    }
}
