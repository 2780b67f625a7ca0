//! [`KeyManager`]: issuing, changing and revoking API keys — the operations behind the admin
//! API and `gatewayctl keys`. Changes made here take effect at once on this instance (its
//! cache is invalidated) and within `key_cache_ttl` on every other.

use std::sync::Arc;
use std::time::SystemTime;

use gateway_core::change_feed::{Change, ChangeFeed};
use gateway_core::store::{ApiKeyRecord, KeyStore, Limits, from_unix_millis, unix_millis};
use gateway_core::{GatewayError, GatewayRole, Secret, TenantId};
use serde_json::Value;

use crate::apikey::{ApiKeys, KEY_PREFIX};
use crate::key_auth::KeyAuthenticator;

/// What to issue. `roles` empty means `[developer]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiKey {
    pub tenant: TenantId,
    pub name: String,
    pub roles: Vec<GatewayRole>,
    pub allowed_models: Option<Vec<String>>,
    /// CIDR blocks the key may be used from (checked by the admin API); `None`: any.
    pub allowed_networks: Option<Vec<String>>,
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
            allowed_networks: None,
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
    /// Where changes are announced to the other instances, when configured.
    feed: Option<Arc<dyn ChangeFeed>>,
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
            feed: None,
        }
    }

    /// Announces every change made here on `feed`, so other instances drop their cached
    /// verdict at once instead of on TTL expiry.
    pub fn with_change_feed(mut self, feed: Arc<dyn ChangeFeed>) -> Self {
        self.feed = Some(feed);
        self
    }

    /// Without a local authenticator (e.g. a CLI writing the store directly).
    pub fn detached(store: Arc<dyn KeyStore>, hasher: ApiKeys) -> Self {
        KeyManager {
            store,
            hasher,
            authenticator: None,
            feed: None,
        }
    }

    pub async fn create(&self, new: NewApiKey) -> Result<CreatedKey, GatewayError> {
        let generated = self.hasher.generate();
        let id = format!("key_{}", uuid::Uuid::now_v7().simple());
        let record = self
            .store_new(new, id, generated.display_prefix, generated.hash)
            .await?;
        Ok(CreatedKey {
            record,
            secret: generated.secret,
        })
    }

    /// Register a secret chosen by the operator (e.g. `GATEWAY_DEMO_KEY`) instead of a
    /// generated one. It must have the shape of a gateway key: `sk-gw-` and 43 letters/digits.
    pub async fn import(&self, new: NewApiKey, secret: &str) -> Result<ApiKeyRecord, GatewayError> {
        if !ApiKeys::is_well_formed(secret) {
            return Err(GatewayError::invalid(
                "A gateway key is 'sk-gw-' followed by 43 letters and digits.",
            ));
        }
        let display_prefix = secret[..KEY_PREFIX.len() + 4].to_owned();
        let hash = self.hasher.hash(secret);
        // The id derives from the hash, so that every instance importing the same secret (e.g.
        // `--demo` processes with one GATEWAY_DEMO_KEY, each with its own in-memory store)
        // names the key alike: per-key limits shared through Redis are keyed by this id.
        // 64 bits of a hash of a 256-bit secret reveal nothing usable about the secret.
        let id = format!("key_{}", &hash.to_hex()[..16]);
        self.store_new(new, id, display_prefix, hash).await
    }

    async fn store_new(
        &self,
        new: NewApiKey,
        id: String,
        display_prefix: String,
        hash: crate::apikey::KeyHash,
    ) -> Result<ApiKeyRecord, GatewayError> {
        if new.name.trim().is_empty() {
            return Err(GatewayError::invalid_param(
                "name",
                "A key needs a non-empty name.",
            ));
        }
        let roles = if new.roles.is_empty() {
            vec![GatewayRole::Developer]
        } else {
            new.roles
        };
        let record = ApiKeyRecord {
            id,
            tenant: new.tenant,
            name: new.name,
            prefix: display_prefix,
            hash: hash.to_hex(),
            roles,
            allowed_models: new.allowed_models,
            allowed_networks: new.allowed_networks,
            limits: new.limits,
            expires_at: new.expires_at.map(|t| from_unix_millis(unix_millis(t))),
            metadata: new.metadata,
            enabled: true,
            created_at: from_unix_millis(unix_millis(SystemTime::now())),
            last_used_at: None,
            revoked_at: None,
        };
        self.store.create_key(&record).await?;
        // A refusal of this very secret may be cached (negative entry): forget it.
        self.forget(&record.hash).await;
        Ok(record)
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
        if let Some(feed) = &self.feed {
            publish(
                feed.as_ref(),
                &Change::Key {
                    hash: hash.to_owned(),
                },
            )
            .await;
        }
    }
}

/// Publishes best effort: the change is already stored, and when the channel is down the
/// other instances still see it on TTL expiry.
pub(crate) async fn publish(feed: &dyn ChangeFeed, change: &Change) {
    if let Err(e) = feed.publish(change).await {
        tracing::warn!(error = %e, "could not announce a change to other instances; they see it on cache expiry");
    }
}
