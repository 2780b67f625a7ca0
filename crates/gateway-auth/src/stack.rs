//! [`AuthStack`]: everything the `[auth]` section configures, assembled in one call.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gateway_core::TenantId;
use gateway_core::change_feed::{Change, ChangeFeed, ChangeSink};
use gateway_core::phases::auth::Authenticator;
use gateway_core::store::{KeyStore, Store, TenantStore};

use crate::composite::CompositeAuthenticator;
use crate::config::AuthConfig;
use crate::error::AuthError;
use crate::jwt::{HttpJwksFetcher, JwksFetcher, JwtAuthenticator};
use crate::key_auth::KeyAuthenticator;
use crate::key_manager::KeyManager;

/// The assembled authentication phase.
#[derive(Debug, Clone)]
pub struct AuthStack {
    /// Give this to the pipeline (`Gateway::builder`).
    pub authenticator: Arc<CompositeAuthenticator>,
    /// API keys, when a store is configured.
    pub api_keys: Option<KeyAuthenticator>,
    /// Key administration (admin API, CLI), when a store is configured.
    pub key_manager: Option<KeyManager>,
    /// JWT verification, when issuers are configured.
    pub jwt: Option<Arc<JwtAuthenticator>>,
    /// Where local changes are announced to other instances, when configured.
    pub feed: Option<Arc<dyn ChangeFeed>>,
}

impl AuthStack {
    /// Announces changes on `feed` and applies the changes every instance announces there:
    /// a revocation or tenant change made on one instance reaches the others' caches at
    /// once, rather than on TTL expiry (which stays the bound while the feed is down).
    /// Must be called inside a tokio runtime.
    pub fn with_change_feed(mut self, feed: Arc<dyn ChangeFeed>) -> Self {
        self.key_manager = self.key_manager.map(|m| m.with_change_feed(feed.clone()));
        self.feed = Some(feed.clone());
        feed.subscribe(Arc::new(self.clone()));
        self
    }

    /// Forgets every cached verdict that depends on `tenant` — its API keys and the tenant
    /// itself, for keys and JWTs alike — after a change made on this instance, and announces
    /// the change to other instances when a feed is configured (without one, they see it
    /// within `key_cache_ttl_secs`).
    pub async fn invalidate_tenant(&self, tenant: &TenantId) {
        self.forget_tenant(tenant).await;
        if let Some(feed) = &self.feed {
            let change = Change::Tenant {
                tenant: tenant.clone(),
            };
            crate::key_manager::publish(feed.as_ref(), &change).await;
        }
    }

    async fn forget_tenant(&self, tenant: &TenantId) {
        if let Some(keys) = &self.api_keys {
            keys.invalidate_tenant(tenant).await;
        }
        if let Some(jwt) = &self.jwt {
            jwt.invalidate_tenant(tenant).await;
        }
    }

    /// Forgets every cached verdict, for keys and JWTs alike, at once (after the store's
    /// whole content was replaced: the edge profile's signed file reloaded).
    pub fn invalidate_all(&self) {
        if let Some(keys) = &self.api_keys {
            keys.invalidate_all();
        }
        if let Some(jwt) = &self.jwt {
            jwt.invalidate_all_tenants();
        }
    }

    /// API keys need `store`; JWT issuers need none (with a store, tokens' tenants are checked
    /// against it). JWKS documents are fetched with [`HttpJwksFetcher`].
    pub fn build(config: &AuthConfig, store: Option<Arc<dyn Store>>) -> Result<Self, AuthError> {
        let fetcher: Arc<dyn JwksFetcher> = Arc::new(HttpJwksFetcher::new(Duration::from_secs(5))?);
        Self::build_with_fetcher(config, store, fetcher)
    }

    pub fn build_with_fetcher(
        config: &AuthConfig,
        store: Option<Arc<dyn Store>>,
        fetcher: Arc<dyn JwksFetcher>,
    ) -> Result<Self, AuthError> {
        if let Some(problem) = config.problems("auth").into_iter().next() {
            return Err(AuthError::Config(problem.to_string()));
        }
        let stores = store.map(|s| (s.clone() as Arc<dyn KeyStore>, s as Arc<dyn TenantStore>));
        let api_keys = stores
            .as_ref()
            .map(|(k, t)| KeyAuthenticator::from_config(config, k.clone(), t.clone()));
        let key_manager = match (&stores, &api_keys) {
            (Some((k, _)), Some(a)) => Some(KeyManager::new(k.clone(), a.clone())),
            _ => None,
        };
        let jwt = if config.jwt_issuers.is_empty() {
            None
        } else {
            let mut jwt = JwtAuthenticator::new(&config.jwt_issuers, fetcher)?;
            if let Some((_, tenants)) = &stores {
                jwt = jwt.with_tenant_store(
                    tenants.clone(),
                    Duration::from_secs(config.key_cache_ttl_secs.max(1)),
                );
            }
            Some(Arc::new(jwt))
        };
        let authenticator = Arc::new(CompositeAuthenticator::new(
            api_keys
                .clone()
                .map(|a| Arc::new(a) as Arc<dyn Authenticator>),
            jwt.clone().map(|j| j as Arc<dyn Authenticator>),
        ));
        Ok(AuthStack {
            authenticator,
            api_keys,
            key_manager,
            jwt,
            feed: None,
        })
    }
}

/// Changes announced by any instance (this one included) drop the local cached entries.
#[async_trait]
impl ChangeSink for AuthStack {
    async fn apply(&self, change: Change) {
        match change {
            Change::Key { hash } => {
                if let Some(keys) = &self.api_keys {
                    keys.invalidate_hash(&hash).await;
                }
            }
            Change::Tenant { tenant } => self.forget_tenant(&tenant).await,
            Change::All => self.invalidate_all(),
        }
    }
}
