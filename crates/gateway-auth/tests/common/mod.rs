//! Test doubles shared by the integration tests: an in-memory store with counters, an
//! optional delay and an outage switch.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use gateway_core::phases::account::UsageRecord;
use gateway_core::store::{
    ApiKeyRecord, AuditEvent, AuditQuery, AuditRecord, AuditStore, AuditVerification, KeyStore,
    Store, Tenant, TenantStore, UsageAggregate, UsageMinute, UsageQuery, UsageStore,
};
use gateway_core::{GatewayError, TenantId};

#[derive(Default)]
pub struct MemStore {
    tenants: Mutex<HashMap<TenantId, Tenant>>,
    keys: Mutex<HashMap<String, ApiKeyRecord>>,
    pub key_lookups: AtomicUsize,
    pub tenant_lookups: AtomicUsize,
    pub touches: AtomicUsize,
    pub down: AtomicBool,
    /// Each lookup takes this long (on tokio's clock), after reading.
    pub delay: Mutex<Duration>,
}

impl MemStore {
    pub fn with_tenants(ids: &[&str]) -> Self {
        let store = MemStore::default();
        for id in ids {
            store.put_tenant(Tenant::new(TenantId::new(id), *id));
        }
        store
    }

    pub fn put_tenant(&self, t: Tenant) {
        self.tenants.lock().unwrap().insert(t.id.clone(), t);
    }

    pub fn edit_tenant(&self, id: &str, f: impl FnOnce(&mut Tenant)) {
        f(self
            .tenants
            .lock()
            .unwrap()
            .get_mut(&TenantId::new(id))
            .unwrap());
    }

    pub fn edit_key(&self, id: &str, f: impl FnOnce(&mut ApiKeyRecord)) {
        f(self.keys.lock().unwrap().get_mut(id).unwrap());
    }

    pub fn key(&self, id: &str) -> ApiKeyRecord {
        self.keys.lock().unwrap()[id].clone()
    }

    async fn io(&self) -> Result<(), GatewayError> {
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(GatewayError::Unavailable("store down".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl TenantStore for MemStore {
    async fn create_tenant(&self, t: &Tenant) -> Result<(), GatewayError> {
        self.put_tenant(t.clone());
        Ok(())
    }
    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, GatewayError> {
        self.tenant_lookups.fetch_add(1, Ordering::SeqCst);
        let found = self.tenants.lock().unwrap().get(id).cloned();
        self.io().await?;
        Ok(found)
    }
    async fn list_tenants(&self) -> Result<Vec<Tenant>, GatewayError> {
        Ok(self.tenants.lock().unwrap().values().cloned().collect())
    }
    async fn update_tenant(&self, t: &Tenant) -> Result<Tenant, GatewayError> {
        self.put_tenant(t.clone());
        Ok(t.clone())
    }
    async fn delete_tenant(&self, id: &TenantId) -> Result<(), GatewayError> {
        self.tenants.lock().unwrap().remove(id);
        Ok(())
    }
}

#[async_trait]
impl KeyStore for MemStore {
    async fn create_key(&self, k: &ApiKeyRecord) -> Result<(), GatewayError> {
        self.keys.lock().unwrap().insert(k.id.clone(), k.clone());
        Ok(())
    }
    async fn get_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, GatewayError> {
        Ok(self.keys.lock().unwrap().get(id).cloned())
    }
    async fn get_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, GatewayError> {
        self.key_lookups.fetch_add(1, Ordering::SeqCst);
        // Read first, then the latency: the answer may be stale by the time it arrives.
        let found = self
            .keys
            .lock()
            .unwrap()
            .values()
            .find(|k| k.hash == hash)
            .cloned();
        self.io().await?;
        Ok(found)
    }
    async fn list_keys(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<ApiKeyRecord>, GatewayError> {
        Ok(self
            .keys
            .lock()
            .unwrap()
            .values()
            .filter(|k| tenant.is_none_or(|t| *t == k.tenant))
            .cloned()
            .collect())
    }
    async fn update_key(&self, k: &ApiKeyRecord) -> Result<ApiKeyRecord, GatewayError> {
        self.keys.lock().unwrap().insert(k.id.clone(), k.clone());
        Ok(k.clone())
    }
    async fn revoke_key(&self, id: &str, at: SystemTime) -> Result<ApiKeyRecord, GatewayError> {
        let mut keys = self.keys.lock().unwrap();
        let k = keys
            .get_mut(id)
            .ok_or_else(|| GatewayError::NotFound(id.into()))?;
        k.enabled = false;
        k.revoked_at.get_or_insert(at);
        Ok(k.clone())
    }
    async fn touch_key_last_used(&self, id: &str, at: SystemTime) -> Result<(), GatewayError> {
        self.touches.fetch_add(1, Ordering::SeqCst);
        if let Some(k) = self.keys.lock().unwrap().get_mut(id) {
            k.last_used_at = Some(at);
        }
        Ok(())
    }
}

#[async_trait]
impl UsageStore for MemStore {
    async fn insert_usage(&self, _: &[UsageRecord]) -> Result<(), GatewayError> {
        Ok(())
    }
    async fn add_usage_minutes(&self, _: &[UsageMinute]) -> Result<(), GatewayError> {
        Ok(())
    }
    async fn query_usage(&self, _: &UsageQuery) -> Result<Vec<UsageAggregate>, GatewayError> {
        Ok(Vec::new())
    }
    // This double keeps no usage records, so none can expire.
    async fn delete_usage_before(&self, _: SystemTime) -> Result<u64, GatewayError> {
        Ok(0)
    }
}

#[async_trait]
impl AuditStore for MemStore {
    async fn append_audit(&self, _: &AuditEvent) -> Result<AuditRecord, GatewayError> {
        Err(GatewayError::Internal("not in this double".into()))
    }
    async fn list_audit(&self, _: &AuditQuery) -> Result<Vec<AuditRecord>, GatewayError> {
        Ok(Vec::new())
    }
    async fn verify_audit(&self) -> Result<AuditVerification, GatewayError> {
        Ok(AuditVerification {
            checked: 0,
            first_broken_seq: None,
        })
    }
}

#[async_trait]
impl Store for MemStore {
    async fn ping(&self) -> Result<(), GatewayError> {
        self.io().await
    }
    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// Asserts the uniform 401 refusal.
pub fn assert_refused(result: Result<gateway_core::Principal, GatewayError>) {
    match result {
        Err(e) => {
            assert_eq!(e.status(), 401, "{e:?}");
            assert_eq!(e.to_string(), gateway_auth::error::INVALID_MESSAGE);
        }
        Ok(p) => panic!("accepted: {p:?}"),
    }
}
pub mod tokens;
