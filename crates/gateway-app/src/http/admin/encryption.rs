//! Key management of the encryption of stored content (see `docs/security.md`), admins only
//! (`manage_config`):
//! `GET /admin/v1/tenants/{id}/encryption` (a tenant's data-key versions, never key material),
//! `POST /admin/v1/tenants/{id}/encryption/rotate` (a new data key for new writes),
//! `POST /admin/v1/tenants/{id}/encryption/reencrypt` (seal stored content again with the
//! current key) and `POST /admin/v1/encryption/rewrap` (re-wrap every data key under the
//! current KEK, after `[encryption] kek` changed). All run while traffic goes on.

use std::sync::Arc;

use http::Response;
use schemars::JsonSchema;
use serde::Serialize;

use gateway_auth::{Permission, authorize};
use gateway_core::{GatewayError, TenantId};
use gateway_store::{KeyStatus, Keyring, ReencryptReport};

use super::{Admin, Mutation, ok};
use crate::http::body::Body;

/// One data-key version of a tenant.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KeyVersionView {
    pub version: u32,
    /// The key-encryption key it is wrapped by.
    pub kek_id: String,
}

/// What re-encryption did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReencryptView {
    /// Values sealed again with the current key (or sealed for the first time).
    pub resealed: u64,
    /// Values already sealed with the current key.
    pub current: u64,
}

/// A tenant's data keys.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TenantKeysView {
    pub object: &'static str,
    pub tenant: String,
    /// The version new writes use (`null` until the tenant's first sealed write).
    pub current: Option<u32>,
    pub versions: Vec<KeyVersionView>,
    /// Versions up to this one were destroyed (crypto-shredding).
    pub shredded_up_to: Option<u32>,
    /// Set by `reencrypt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reencrypted: Option<ReencryptView>,
}

/// The answer of `POST /admin/v1/encryption/rewrap`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RewrapView {
    pub object: &'static str,
    /// The KEK every data key is now wrapped by.
    pub kek_id: String,
    pub rewrapped: u64,
    pub already_current: u64,
}

fn view(s: KeyStatus, reencrypted: Option<ReencryptReport>) -> TenantKeysView {
    TenantKeysView {
        object: "tenant.keys",
        tenant: s.tenant,
        current: s.current,
        versions: s
            .versions
            .into_iter()
            .map(|(version, kek_id)| KeyVersionView { version, kek_id })
            .collect(),
        shredded_up_to: s.shredded_up_to,
        reencrypted: reencrypted.map(|r| ReencryptView {
            resealed: r.resealed,
            current: r.current,
        }),
    }
}

fn keyring(ctx: &Admin<'_>) -> Result<Arc<Keyring>, GatewayError> {
    ctx.state.keyring.clone().ok_or_else(|| {
        GatewayError::invalid(
            "Encryption of stored content is off: set [encryption] kek (see docs/security.md).",
        )
    })
}

fn cipher_error(e: gateway_core::encryption::CipherError) -> GatewayError {
    tracing::error!(error = %e, "key management failed");
    GatewayError::Unavailable("The key store is unavailable; retry later.".to_owned())
}

/// `GET /admin/v1/tenants/{id}/encryption`.
pub async fn show(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    authorize(&ctx.principal, Permission::ManageConfig, None)?;
    let status = keyring(ctx)?
        .status(&TenantId::new(id))
        .await
        .map_err(cipher_error)?;
    ok(200, &view(status, None))
}

/// `POST /admin/v1/tenants/{id}/encryption/rotate`.
pub async fn rotate(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("tenant.key.rotate");
    let tenant = TenantId::new(id);
    m.on(&tenant, id);
    ctx.audited(m, async |m| {
        authorize(&ctx.principal, Permission::ManageConfig, None)?;
        let keyring = keyring(ctx)?;
        let version = keyring.rotate_tenant(&tenant).await.map_err(cipher_error)?;
        m.details.insert("version".to_owned(), version.into());
        let status = keyring.status(&tenant).await.map_err(cipher_error)?;
        ok(200, &view(status, None))
    })
    .await
}

/// `POST /admin/v1/tenants/{id}/encryption/reencrypt`.
pub async fn reencrypt(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("tenant.key.reencrypt");
    let tenant = TenantId::new(id);
    m.on(&tenant, id);
    ctx.audited(m, async |m| {
        authorize(&ctx.principal, Permission::ManageConfig, None)?;
        let keyring = keyring(ctx)?;
        let sql = ctx
            .state
            .sql_store()
            .ok_or_else(|| GatewayError::invalid("Re-encryption needs the SQL store."))?;
        let report = sql.reencrypt_tenant(&tenant).await?;
        m.details
            .insert("resealed".to_owned(), report.resealed.into());
        let status = keyring.status(&tenant).await.map_err(cipher_error)?;
        ok(200, &view(status, Some(report)))
    })
    .await
}

/// `POST /admin/v1/encryption/rewrap`.
pub async fn rewrap(ctx: &Admin<'_>) -> Result<Response<Body>, GatewayError> {
    ctx.audited(Mutation::new("encryption.rewrap"), async |m| {
        authorize(&ctx.principal, Permission::ManageConfig, None)?;
        let keyring = keyring(ctx)?;
        let report = keyring.rewrap_all().await.map_err(cipher_error)?;
        m.details
            .insert("rewrapped".to_owned(), report.rewrapped.into());
        ok(
            200,
            &RewrapView {
                object: "kek.rewrap",
                kek_id: keyring.current_kek().to_owned(),
                rewrapped: report.rewrapped,
                already_current: report.already_current,
            },
        )
    })
    .await
}
