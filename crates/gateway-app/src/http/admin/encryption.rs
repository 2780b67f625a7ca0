//! Key management of the encryption of stored content (see `docs/security.md`):
//! `GET /admin/v1/tenants/{id}/encryption` (a tenant's data-key versions and the KEK wrapping
//! each, never key material), `POST .../encryption/rotate` (a new data key for new writes),
//! `POST .../encryption/reencrypt` (seal the tenant's stored rows again with the current key,
//! paged, under traffic), `POST /admin/v1/encryption/rewrap` (re-wrap every data key under the
//! current KEK) and `POST .../encryption/open` ([`open`]: read sealed content-log fields).
//!
//! Who may: reading the status needs `read_keys` on the tenant, rotating and re-encrypting
//! `manage_keys` on the tenant (a tenant admin, for its own tenant); re-wrapping (every
//! tenant's keys) and opening sealed content are gateway-wide, admins only. Every call is
//! audited, allowed or refused. With `[encryption]` off every route answers 400 saying so.

use std::sync::Arc;

use http::Response;
use schemars::JsonSchema;
use serde::Serialize;

use gateway_auth::{Permission, authorize};
use gateway_core::{GatewayError, TenantId};
use gateway_store::{KeyStatus, Keyring, ReencryptReport};

use super::{Admin, Mutation, ok};
use crate::http::body::Body;

pub use super::encryption_open::{OpenSealed, OpenedList, open};

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
    /// Always `tenant.keys`.
    pub object: &'static str,
    pub tenant: String,
    /// The version new writes use (`null` until the tenant's first sealed write).
    pub current: Option<u32>,
    /// The versions held, oldest first.
    pub versions: Vec<KeyVersionView>,
    /// Versions up to this one were destroyed (crypto-shredding).
    pub shredded_up_to: Option<u32>,
    /// The KEK new data keys are wrapped by.
    pub kek_id: String,
    /// Set by `reencrypt`: what it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reencrypted: Option<ReencryptView>,
}

/// The answer of `POST /admin/v1/encryption/rewrap`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RewrapView {
    /// Always `kek.rewrap`.
    pub object: &'static str,
    /// The KEK every data key is now wrapped by.
    pub kek_id: String,
    /// Data keys that were wrapped by a retired KEK and are now wrapped by the current one.
    pub rewrapped: u64,
    /// Data keys already wrapped by the current KEK.
    pub already_current: u64,
}

fn view(s: KeyStatus, kek_id: &str, reencrypted: Option<ReencryptReport>) -> TenantKeysView {
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
        kek_id: kek_id.to_owned(),
        reencrypted: reencrypted.map(|r| ReencryptView {
            resealed: r.resealed,
            current: r.current,
        }),
    }
}

/// The keyring, or 400 when `[encryption]` is off.
pub(super) fn keyring(ctx: &Admin<'_>) -> Result<Arc<Keyring>, GatewayError> {
    ctx.state.keyring.clone().ok_or_else(|| {
        GatewayError::invalid(
            "Encryption of stored content is not configured: set [encryption] kek \
             (see docs/security.md).",
        )
    })
}

pub(super) fn cipher_error(e: gateway_core::encryption::CipherError) -> GatewayError {
    tracing::error!(error = %e, "key management failed");
    GatewayError::Unavailable("The key store is unavailable; retry later.".to_owned())
}

/// 404 unless the tenant exists (keys are not made for a mistyped id).
async fn existing(ctx: &Admin<'_>, tenant: &TenantId) -> Result<(), GatewayError> {
    match ctx.state.store.get_tenant(tenant).await? {
        Some(_) => Ok(()),
        None => Err(GatewayError::NotFound(format!(
            "Tenant '{}' not found.",
            tenant.as_str()
        ))),
    }
}

/// `GET /admin/v1/tenants/{id}/encryption`.
pub async fn show(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("tenant.keys.read");
    let tenant = TenantId::new(id);
    m.on(&tenant, id);
    ctx.audited(m, async |_| {
        authorize(&ctx.principal, Permission::ReadKeys, Some(&tenant))?;
        let keyring = keyring(ctx)?;
        let status = keyring.status(&tenant).await.map_err(cipher_error)?;
        ok(200, &view(status, keyring.current_kek(), None))
    })
    .await
}

/// `POST /admin/v1/tenants/{id}/encryption/rotate`.
pub async fn rotate(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("tenant.keys.rotate");
    let tenant = TenantId::new(id);
    m.on(&tenant, id);
    ctx.audited(m, async |m| {
        authorize(&ctx.principal, Permission::ManageKeys, Some(&tenant))?;
        let keyring = keyring(ctx)?;
        existing(ctx, &tenant).await?;
        let version = keyring.rotate_tenant(&tenant).await.map_err(cipher_error)?;
        m.details.insert("version".to_owned(), version.into());
        let status = keyring.status(&tenant).await.map_err(cipher_error)?;
        ok(200, &view(status, keyring.current_kek(), None))
    })
    .await
}

/// `POST /admin/v1/tenants/{id}/encryption/reencrypt`.
pub async fn reencrypt(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    let mut m = Mutation::new("tenant.keys.reencrypt");
    let tenant = TenantId::new(id);
    m.on(&tenant, id);
    ctx.audited(m, async |m| {
        authorize(&ctx.principal, Permission::ManageKeys, Some(&tenant))?;
        let keyring = keyring(ctx)?;
        existing(ctx, &tenant).await?;
        let sql = ctx
            .state
            .sql_store()
            .ok_or_else(|| GatewayError::invalid("Re-encryption needs the SQL store."))?;
        let report = sql.reencrypt_tenant(&tenant).await?;
        m.details
            .insert("resealed".to_owned(), report.resealed.into());
        m.details
            .insert("already_current".to_owned(), report.current.into());
        let status = keyring.status(&tenant).await.map_err(cipher_error)?;
        ok(200, &view(status, keyring.current_kek(), Some(report)))
    })
    .await
}

/// `POST /admin/v1/encryption/rewrap`.
pub async fn rewrap(ctx: &Admin<'_>) -> Result<Response<Body>, GatewayError> {
    ctx.audited(Mutation::new("encryption.rewrap"), async |m| {
        authorize(&ctx.principal, Permission::ManageConfig, None)?;
        let keyring = keyring(ctx)?;
        let report = keyring.rewrap_all().await.map_err(cipher_error)?;
        m.target = Some(keyring.current_kek().to_owned());
        m.details
            .insert("rewrapped".to_owned(), report.rewrapped.into());
        m.details
            .insert("already_current".to_owned(), report.already_current.into());
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
