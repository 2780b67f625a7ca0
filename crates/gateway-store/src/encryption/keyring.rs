//! [`Keyring`]: per-tenant data keys (AES-256-GCM) wrapped by a [`KeyWrapper`], persisted in
//! `tenant_data_keys`, unwrapped once and kept in memory for `key_cache_ttl` (so that a key
//! destroyed or added by another instance is seen within that time; this instance sees its
//! own changes at once). It is the [`ContentCipher`] the cache and the stores seal with.
//!
//! A sealed value: `GWE1` | data-key version (u32, big-endian) | nonce | ciphertext | tag.
//! The authenticated data binds the header, the tenant and the record id.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use gateway_core::TenantId;
use gateway_core::encryption::{CipherError, ContentCipher, KeyWrapper};

use super::aead::{AeadKey, KEY_LEN, random_bytes};
use super::data_keys::{self, WrappedKey};
use crate::connect::SqlStore;
use crate::error::StoreError;
use crate::pool::Backend;

const MAGIC: &[u8; 4] = b"GWE1";
const HEADER: usize = 8;
/// Tenants whose unwrapped keys are kept at most; beyond, the map starts again (bounded memory).
const MAX_CACHED_TENANTS: usize = 100_000;

struct TenantKeys {
    loaded: Instant,
    current: Option<u32>,
    keys: HashMap<u32, AeadKey>,
    shredded_up_to: Option<u32>,
}

/// What a tenant's keys look like (for the admin API; never key material).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyStatus {
    pub tenant: String,
    /// Versions held, oldest first, with the KEK each is wrapped by.
    pub versions: Vec<(u32, String)>,
    /// The version new writes use.
    pub current: Option<u32>,
    /// Versions up to this one were destroyed.
    pub shredded_up_to: Option<u32>,
}

/// The result of re-wrapping every data key under the current KEK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct RewrapReport {
    pub rewrapped: u64,
    pub already_current: u64,
}

pub struct Keyring {
    backend: Backend,
    kek: Arc<dyn KeyWrapper>,
    cache: RwLock<HashMap<TenantId, Arc<TenantKeys>>>,
    ttl: Duration,
    /// Serialises key creation and rotation in this process (the table's key does across).
    create: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("kek", &self.kek.current_kek())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn context(tenant: &str, version: u32) -> String {
    format!("{tenant}:{version}")
}

fn aad(tenant: &TenantId, record: &str, header: &[u8]) -> Vec<u8> {
    let t = tenant.as_str().as_bytes();
    let mut a = Vec::with_capacity(header.len() + 4 + t.len() + record.len());
    a.extend_from_slice(header);
    a.extend_from_slice(&u32::try_from(t.len()).unwrap_or(u32::MAX).to_be_bytes());
    a.extend_from_slice(t);
    a.extend_from_slice(record.as_bytes());
    a
}

impl Keyring {
    /// A keyring over `store`'s data-key tables; unwrapped keys are cached for `ttl`.
    pub fn new(store: &SqlStore, kek: Arc<dyn KeyWrapper>, ttl: Duration) -> Self {
        Keyring {
            backend: store.backend.clone(),
            kek,
            cache: RwLock::new(HashMap::new()),
            ttl,
            create: tokio::sync::Mutex::new(()),
        }
    }

    fn cached(&self, tenant: &TenantId) -> Option<Arc<TenantKeys>> {
        let map = self.cache.read().unwrap_or_else(|e| e.into_inner());
        map.get(tenant)
            .filter(|k| k.loaded.elapsed() < self.ttl)
            .cloned()
    }

    /// The id of the KEK new data keys are wrapped by.
    pub fn current_kek(&self) -> &str {
        self.kek.current_kek()
    }

    /// Drops this instance's copy of `tenant`'s keys (read again on next use).
    pub fn forget(&self, tenant: &TenantId) {
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(tenant);
    }

    async fn load(&self, tenant: &TenantId) -> Result<Arc<TenantKeys>, CipherError> {
        let stored = data_keys::load(&self.backend, tenant).await?;
        let mut keys = HashMap::with_capacity(stored.keys.len());
        for k in &stored.keys {
            let raw = self
                .kek
                .unwrap(&k.kek_id, &context(tenant.as_str(), k.version), &k.wrapped)
                .await?;
            keys.insert(k.version, AeadKey::new(&raw)?);
        }
        let loaded = Arc::new(TenantKeys {
            loaded: Instant::now(),
            current: stored.keys.last().map(|k| k.version),
            keys,
            shredded_up_to: stored.shredded_up_to,
        });
        let mut map = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_CACHED_TENANTS {
            map.clear();
        }
        map.insert(tenant.clone(), loaded.clone());
        Ok(loaded)
    }

    async fn keys(&self, tenant: &TenantId) -> Result<Arc<TenantKeys>, CipherError> {
        match self.cached(tenant) {
            Some(k) => Ok(k),
            None => self.load(tenant).await,
        }
    }

    /// Adds a data key above every existing (or shredded) version; returns its version.
    async fn add_key(&self, tenant: &TenantId, only_if_none: bool) -> Result<u32, CipherError> {
        let _guard = self.create.lock().await;
        let now = self.load(tenant).await?;
        if only_if_none && let Some(v) = now.current {
            return Ok(v);
        }
        let version = now
            .current
            .max(now.shredded_up_to)
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| CipherError::Store("data key versions exhausted".to_owned()))?;
        let raw = random_bytes(KEY_LEN)?;
        let (kek_id, wrapped) = self
            .kek
            .wrap(&context(tenant.as_str(), version), &raw)
            .await?;
        data_keys::insert(
            &self.backend,
            tenant,
            &WrappedKey {
                version,
                kek_id,
                wrapped,
            },
        )
        .await?;
        // Whoever won the race, the stored keys are the truth.
        let after = self.load(tenant).await?;
        after
            .current
            .ok_or_else(|| CipherError::Store("data key not stored".to_owned()))
    }

    /// Rotates `tenant`'s data key: new writes use a new key; what was sealed with older ones
    /// stays readable until re-encrypted. Returns the new version.
    pub async fn rotate_tenant(&self, tenant: &TenantId) -> Result<u32, CipherError> {
        self.add_key(tenant, false).await
    }

    /// Re-wraps every data key under the current KEK (KEK rotation); keys stay the same, so no
    /// content needs re-encrypting.
    pub async fn rewrap_all(&self) -> Result<RewrapReport, CipherError> {
        let current = self.kek.current_kek().to_owned();
        let mut report = RewrapReport::default();
        for (tenant, key) in data_keys::all(&self.backend).await? {
            if key.kek_id == current {
                report.already_current += 1;
                continue;
            }
            let ctx = context(&tenant, key.version);
            let raw = self.kek.unwrap(&key.kek_id, &ctx, &key.wrapped).await?;
            let (kek_id, wrapped) = self.kek.wrap(&ctx, &raw).await?;
            data_keys::rewrap(&self.backend, &tenant, key.version, &kek_id, &wrapped).await?;
            report.rewrapped += 1;
        }
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(report)
    }

    /// Crypto-shredding: destroys every data key of `tenant`. What was sealed for it cannot be
    /// opened again, wherever it is stored. Returns how many keys were destroyed.
    pub async fn shred(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let n = data_keys::shred(&self.backend, tenant).await?;
        self.forget(tenant);
        Ok(n)
    }

    /// The versions and KEKs of `tenant`'s keys.
    pub async fn status(&self, tenant: &TenantId) -> Result<KeyStatus, CipherError> {
        let stored = data_keys::load(&self.backend, tenant).await?;
        Ok(KeyStatus {
            tenant: tenant.as_str().to_owned(),
            current: stored.keys.last().map(|k| k.version),
            versions: stored
                .keys
                .into_iter()
                .map(|k| (k.version, k.kek_id))
                .collect(),
            shredded_up_to: stored.shredded_up_to,
        })
    }

    /// The version new writes for `tenant` use (creating its first key if needed).
    pub async fn current_version(&self, tenant: &TenantId) -> Result<u32, CipherError> {
        match self.keys(tenant).await?.current {
            Some(v) => Ok(v),
            None => self.add_key(tenant, true).await,
        }
    }
}

#[async_trait]
impl ContentCipher for Keyring {
    async fn seal(
        &self,
        tenant: &TenantId,
        record: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CipherError> {
        let mut keys = self.keys(tenant).await?;
        if keys.current.is_none() {
            self.add_key(tenant, true).await?;
            keys = self.keys(tenant).await?;
        }
        let version = keys.current.ok_or(CipherError::Shredded)?;
        let key = keys.keys.get(&version).ok_or(CipherError::Corrupt)?;
        let mut out = Vec::with_capacity(HEADER + plaintext.len() + super::aead::OVERHEAD);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&version.to_be_bytes());
        key.seal_into(&aad(tenant, record, &out[..HEADER]), plaintext, &mut out)?;
        Ok(out)
    }

    async fn open(
        &self,
        tenant: &TenantId,
        record: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CipherError> {
        let version = self.key_version(sealed).ok_or(CipherError::Corrupt)?;
        let mut keys = self.keys(tenant).await?;
        if !keys.keys.contains_key(&version) && keys.shredded_up_to.is_none_or(|s| version > s) {
            // Perhaps another instance added it since this one loaded.
            keys = self.load(tenant).await?;
        }
        let Some(key) = keys.keys.get(&version) else {
            return Err(if keys.shredded_up_to.is_some_and(|s| version <= s) {
                CipherError::Shredded
            } else {
                CipherError::Corrupt
            });
        };
        key.open(&aad(tenant, record, &sealed[..HEADER]), &sealed[HEADER..])
    }

    fn key_version(&self, sealed: &[u8]) -> Option<u32> {
        if sealed.len() < HEADER || &sealed[..4] != MAGIC {
            return None;
        }
        Some(u32::from_be_bytes([
            sealed[4], sealed[5], sealed[6], sealed[7],
        ]))
    }
}
