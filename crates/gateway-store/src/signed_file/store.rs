//! [`SignedFileStore`]: the store traits over a verified signed file, read-only. Tenants and
//! keys are answered from memory (swapped whole on [`SignedFileStore::reload`]); every write
//! is refused; usage and audit are not kept (metrics and the audit file carry them).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use gateway_core::phases::account::UsageRecord;
use gateway_core::store::{
    ApiKeyRecord, AuditEvent, AuditQuery, AuditRecord, AuditStore, AuditVerification, KeyStore,
    Store, Tenant, TenantStore, UsageAggregate, UsageMinute, UsageQuery, UsageStore,
};
use gateway_core::{GatewayError, TenantId};

use super::document::Contents;
use super::envelope::{PublicKey, verify};
use super::{SignedFileConfig, SignedFileError};

/// `code` of the error every write answers with.
pub const READ_ONLY_CODE: &str = "read_only_store";

/// Tenants and keys from a signed file; see the module docs.
#[derive(Debug)]
pub struct SignedFileStore {
    path: PathBuf,
    key: PublicKey,
    contents: ArcSwap<Contents>,
}

impl SignedFileStore {
    /// Reads and verifies the file of `config`.
    pub fn open(config: &SignedFileConfig) -> Result<Self, SignedFileError> {
        let key = PublicKey::from_base64(&config.public_key)?;
        let contents = load(&config.path, &key)?;
        tracing::info!(
            serial = contents.serial,
            tenants = contents.tenants.len(),
            keys = contents.keys.len(),
            "signed tenants file loaded"
        );
        Ok(SignedFileStore {
            path: config.path.clone(),
            key,
            contents: ArcSwap::from_pointee(contents),
        })
    }

    /// Reads the file again (SIGHUP) and swaps it in whole. Refused, keeping what is served,
    /// when the file is unsigned, altered, invalid, signed by another key than the one
    /// configured now, or older (a lower `serial`) than the one served.
    pub fn reload(&self, config: &SignedFileConfig) -> Result<(), SignedFileError> {
        if config.path != self.path {
            return Err(SignedFileError::Restart("store.signed_file.path"));
        }
        let key = PublicKey::from_base64(&config.public_key)?;
        if key != self.key {
            return Err(SignedFileError::Restart("store.signed_file.public_key"));
        }
        let next = load(&self.path, &self.key)?;
        let current = self.contents.load().serial;
        if next.serial < current {
            return Err(SignedFileError::Rollback {
                file: next.serial,
                served: current,
            });
        }
        tracing::info!(
            serial = next.serial,
            tenants = next.tenants.len(),
            keys = next.keys.len(),
            "signed tenants file reloaded"
        );
        self.contents.store(Arc::new(next));
        Ok(())
    }

    /// The `serial` of the document served.
    pub fn serial(&self) -> u64 {
        self.contents.load().serial
    }
}

fn load(path: &Path, key: &PublicKey) -> Result<Contents, SignedFileError> {
    let bytes = std::fs::read(path).map_err(|e| SignedFileError::Read {
        path: path.to_owned(),
        source: e,
    })?;
    let issued = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| SystemTime::now());
    verify(&bytes, key)?.into_contents(issued)
}

fn read_only() -> GatewayError {
    GatewayError::InvalidRequest {
        message: "This gateway runs the edge profile: tenants and keys come from a signed file \
                  and cannot be changed through the API. Edit the source, sign it with \
                  `llm-gateway edge sign` and send the gateway SIGHUP."
            .to_owned(),
        param: None,
        code: Some(READ_ONLY_CODE),
    }
}

fn not_kept(what: &str) -> GatewayError {
    GatewayError::InvalidRequest {
        message: format!(
            "This gateway runs the edge profile and keeps no {what}; read its Prometheus \
             metrics or the audit file instead."
        ),
        param: None,
        code: Some(READ_ONLY_CODE),
    }
}

#[async_trait]
impl TenantStore for SignedFileStore {
    async fn create_tenant(&self, _: &Tenant) -> Result<(), GatewayError> {
        Err(read_only())
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, GatewayError> {
        Ok(self.contents.load().tenants.get(id).cloned())
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, GatewayError> {
        let mut all: Vec<Tenant> = self.contents.load().tenants.values().cloned().collect();
        all.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok(all)
    }

    async fn update_tenant(&self, _: &Tenant) -> Result<Tenant, GatewayError> {
        Err(read_only())
    }

    async fn delete_tenant(&self, _: &TenantId) -> Result<(), GatewayError> {
        Err(read_only())
    }
}

#[async_trait]
impl KeyStore for SignedFileStore {
    async fn create_key(&self, _: &ApiKeyRecord) -> Result<(), GatewayError> {
        Err(read_only())
    }

    async fn get_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, GatewayError> {
        Ok(self.contents.load().keys.get(id).cloned())
    }

    async fn get_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, GatewayError> {
        let contents = self.contents.load();
        Ok(contents
            .by_hash
            .get(hash)
            .and_then(|id| contents.keys.get(id))
            .cloned())
    }

    async fn list_keys(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<ApiKeyRecord>, GatewayError> {
        let contents = self.contents.load();
        let mut keys: Vec<ApiKeyRecord> = contents
            .keys
            .values()
            .filter(|k| tenant.is_none_or(|t| &k.tenant == t))
            .cloned()
            .collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(keys)
    }

    async fn update_key(&self, _: &ApiKeyRecord) -> Result<ApiKeyRecord, GatewayError> {
        Err(read_only())
    }

    async fn revoke_key(&self, _: &str, _: SystemTime) -> Result<ApiKeyRecord, GatewayError> {
        Err(read_only())
    }

    /// Not recorded: the file is the only state.
    async fn touch_key_last_used(&self, _: &str, _: SystemTime) -> Result<(), GatewayError> {
        Ok(())
    }
}

#[async_trait]
impl UsageStore for SignedFileStore {
    /// Dropped: usage is in the metrics (`gateway_tokens_total`, `gateway_cost_usd_total`).
    async fn insert_usage(&self, _: &[UsageRecord]) -> Result<(), GatewayError> {
        Ok(())
    }

    async fn add_usage_minutes(&self, _: &[UsageMinute]) -> Result<(), GatewayError> {
        Ok(())
    }

    async fn query_usage(&self, _: &UsageQuery) -> Result<Vec<UsageAggregate>, GatewayError> {
        Err(not_kept("usage records"))
    }

    async fn delete_usage_before(&self, _: SystemTime) -> Result<u64, GatewayError> {
        Ok(0)
    }
}

#[async_trait]
impl AuditStore for SignedFileStore {
    async fn append_audit(&self, _: &AuditEvent) -> Result<AuditRecord, GatewayError> {
        Err(not_kept("audit log"))
    }

    async fn list_audit(&self, _: &AuditQuery) -> Result<Vec<AuditRecord>, GatewayError> {
        Err(not_kept("audit log"))
    }

    async fn verify_audit(&self) -> Result<AuditVerification, GatewayError> {
        Err(not_kept("audit log"))
    }
}

#[async_trait]
impl Store for SignedFileStore {
    async fn ping(&self) -> Result<(), GatewayError> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "signed_file"
    }
}
