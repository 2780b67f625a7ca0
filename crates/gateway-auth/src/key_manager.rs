//! [`KeyManager`]: issuing, changing and revoking API keys — the operations behind the admin
//! API and `gatewayctl keys`. Changes made here take effect at once on this instance (its
//! cache is invalidated) and within `key_cache_ttl` on every other.

use std::sync::Arc;
use std::time::SystemTime;

use gateway_core::store::{ApiKeyRecord, KeyStore, Limits, from_unix_millis, unix_millis};
use gateway_core::{GatewayError, GatewayRole, Secret, TenantId};
use serde_json::Value;

use crate::apikey::ApiKeys;
use crate::key_auth::KeyAuthenticator;

/// What to issue. `roles` empty means `[developer]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiKey {
    pub tenant: TenantId,
    pub name: String,
    pub roles: Vec<GatewayRole>,
    pub allowed_models: Option<Vec<String>>,
    pub limits: Limits,
    pub expires_at: Option<SystemTime>,
    pub metadata: Value,
}

impl NewApiKey {
    /// A developer key for `tenant` with no restrictions.
    pub fn new(tenant: TenantId, name: impl Into<String>) -> Self {
        NewApiKey {
            tenant,
            name: name.into(),
            roles: Vec::new(),
            allowed_models: None,
            limits: Limits::default(),
            expires_at: None,
            metadata: Value::Object(serde_json::Map::new()),
        }
    }
}

/// A key just issued: the stored record, and the secret — shown to its owner once, never again.
#[derive(Debug)]
pub struct CreatedKey {
    pub record: ApiKeyRecord,
    pub secret: Secret<String>,
}

/// Issues and manages keys in a [`KeyStore`], keeping a local [`KeyAuthenticator`] in step.
#[derive(Clone)]
pub struct KeyManager {
    store: Arc<dyn KeyStore>,
    hasher: ApiKeys,
    authenticator: Option<KeyAuthenticator>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyManager")
            .field("hasher", &self.hasher)
            .finish_non_exhaustive()
    }
}

impl KeyManager {
    /// Keys issued here are accepted by `authenticator` (same pepper), whose cache is
    /// invalidated on every change.
    pub fn new(store: Arc<dyn KeyStore>, authenticator: KeyAuthenticator) -> Self {
        KeyManager {
            store,
            hasher: authenticator.hasher().clone(),
            authenticator: Some(authenticator),
        }
    }

    /// Without a local authenticator (e.g. a CLI writing the store directly).
    pub fn detached(store: Arc<dyn KeyStore>, hasher: ApiKeys) -> Self {
        KeyManager {
            store,
            hasher,
            authenticator: None,
        }
    }

    pub async fn create(&self, new: NewApiKey) -> Result<CreatedKey, GatewayError> {
        if new.name.trim().is_empty() {
            return Err(GatewayError::invalid_param(
                "name",
                "A key needs a non-empty name.",
            ));
        }
        let generated = self.hasher.generate();
        let roles = if new.roles.is_empty() {
            vec![GatewayRole::Developer]
        } else {
            new.roles
        };
        let record = ApiKeyRecord {
            id: format!("key_{}", uuid::Uuid::now_v7().simple()),
            tenant: new.tenant,
            name: new.name,
            prefix: generated.display_prefix,
            hash: generated.hash.to_hex(),
            roles,
            allowed_models: new.allowed_models,
            limits: new.limits,
            expires_at: new.expires_at.map(|t| from_unix_millis(unix_millis(t))),
            metadata: new.metadata,
            enabled: true,
            created_at: from_unix_millis(unix_millis(SystemTime::now())),
            last_used_at: None,
            revoked_at: None,
        };
        self.store.create_key(&record).await?;
        Ok(CreatedKey {
            record,
            secret: generated.secret,
        })
    }

    /// Replaces the mutable fields (see [`KeyStore::update_key`]).
    pub async fn update(&self, key: &ApiKeyRecord) -> Result<ApiKeyRecord, GatewayError> {
        let stored = self.store.update_key(key).await?;
        self.forget(&stored.hash).await;
        Ok(stored)
    }

    pub async fn set_enabled(&self, id: &str, enabled: bool) -> Result<ApiKeyRecord, GatewayError> {
        let mut key = self.get(id).await?;
        key.enabled = enabled;
        self.update(&key).await
    }

    /// Revokes for good; idempotent.
    pub async fn revoke(&self, id: &str) -> Result<ApiKeyRecord, GatewayError> {
        let stored = self.store.revoke_key(id, SystemTime::now()).await?;
        self.forget(&stored.hash).await;
        Ok(stored)
    }

    pub async fn get(&self, id: &str) -> Result<ApiKeyRecord, GatewayError> {
        self.store
            .get_key(id)
            .await?
            .ok_or_else(|| GatewayError::NotFound(format!("key '{id}' not found.")))
    }

    pub async fn list(&self, tenant: Option<&TenantId>) -> Result<Vec<ApiKeyRecord>, GatewayError> {
        self.store.list_keys(tenant).await
    }

    async fn forget(&self, hash: &str) {
        if let Some(a) = &self.authenticator {
            a.invalidate_hash(hash).await;
        }
    }
}
