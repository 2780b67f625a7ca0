//! Encryption of stored content, assembled: the keyring `[encryption]` describes over the SQL
//! store (which then seals its content columns and shreds on tenant deletion), and the
//! per-tenant pass-through mode. The mechanisms live in `gateway-store` (keys, AES-256-GCM)
//! and `gateway-cache` (sealed entries); see `docs/security.md`. [`content_log`] seals the
//! logged prompts and completions.

pub mod content_log;

use std::sync::Arc;

use gateway_core::error::DeniedBy;
use gateway_core::{GatewayError, TenantId};
use gateway_store::{Keyring, SqlStore};

use crate::config::Config;
use crate::error::AppError;
use crate::state::AppState;

/// The keyring `[encryption]` asks for, set on `sql` so that the store seals with it; `None`
/// when encryption is off. Encryption needs the SQL store (it keeps the wrapped data keys).
pub fn keyring(config: &Config, sql: Option<&SqlStore>) -> Result<Option<Arc<Keyring>>, AppError> {
    let enc = &config.encryption;
    let Some(kek) = enc
        .key_wrapper()
        .map_err(|e| AppError::startup("encryption.kek", e))?
    else {
        return Ok(None);
    };
    let Some(sql) = sql else {
        return Err(AppError::Startup(
            "encryption needs the SQL store (it keeps the wrapped data keys); the signed-file \
             store has none"
                .to_owned(),
        ));
    };
    let keyring = Arc::new(Keyring::new(sql, kek, enc.key_cache_ttl));
    sql.set_keyring(keyring.clone());
    tracing::info!(kek_id = %enc.kek_id, "stored content is encrypted per tenant");
    Ok(Some(keyring))
}

impl AppState {
    /// Whether `tenant` is in pass-through mode: its content is not stored, logged or cached.
    pub fn is_passthrough(&self, tenant: &TenantId) -> bool {
        self.passthrough_tenants
            .iter()
            .any(|t| t == tenant.as_str())
    }

    /// Refuses (403) what cannot work without storing content — files, batches, asynchronous
    /// calls — for a pass-through tenant; `what` names it for the caller.
    pub fn refuse_if_passthrough(&self, tenant: &TenantId, what: &str) -> Result<(), GatewayError> {
        if !self.is_passthrough(tenant) {
            return Ok(());
        }
        Err(GatewayError::forbidden(
            DeniedBy::Policy {
                rule: Some("passthrough".to_owned()),
            },
            format!(
                "{what} store content, and this tenant is in pass-through mode (its content is \
                 never stored): call the API synchronously instead."
            ),
        ))
    }
}
