//! The SQL of the data-key tables (`tenant_data_keys`, `tenant_key_shreds`, migration 0011).

use base64::Engine as _;
use gateway_core::TenantId;
use gateway_core::encryption::CipherError;
use gateway_core::store::unix_millis;
use sqlx::Row;

use crate::error::StoreError;
use crate::pool::{Backend, on_pool};

/// One stored (wrapped) data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WrappedKey {
    pub version: u32,
    pub kek_id: String,
    pub wrapped: Vec<u8>,
}

/// A tenant's stored keys and, if it was shredded, the last destroyed version.
#[derive(Debug, Default)]
pub(crate) struct StoredKeys {
    pub keys: Vec<WrappedKey>,
    pub shredded_up_to: Option<u32>,
}

fn store_err(e: impl std::fmt::Display) -> CipherError {
    CipherError::Store(e.to_string())
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

pub(crate) async fn load(backend: &Backend, tenant: &TenantId) -> Result<StoredKeys, CipherError> {
    let rows = on_pool!(backend, pool => {
        sqlx::query("SELECT version, kek_id, wrapped FROM tenant_data_keys WHERE tenant = $1 \
                     ORDER BY version")
            .bind(tenant.as_str())
            .fetch_all(pool)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|r| -> Result<WrappedKey, CipherError> {
                let version: i64 = r.try_get(0).map_err(store_err)?;
                let wrapped: String = r.try_get(2).map_err(store_err)?;
                Ok(WrappedKey {
                    version: u32::try_from(version).map_err(store_err)?,
                    kek_id: r.try_get(1).map_err(store_err)?,
                    wrapped: b64().decode(wrapped).map_err(store_err)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    });
    let shred: Option<i64> = on_pool!(backend, pool => {
        sqlx::query_scalar("SELECT last_version FROM tenant_key_shreds WHERE tenant = $1")
            .bind(tenant.as_str())
            .fetch_optional(pool)
            .await
            .map_err(store_err)?
    });
    Ok(StoredKeys {
        keys: rows,
        shredded_up_to: shred.and_then(|v| u32::try_from(v).ok()),
    })
}

/// Inserts a key unless that version exists (another instance won the race); returns whether
/// this one was written.
pub(crate) async fn insert(
    backend: &Backend,
    tenant: &TenantId,
    key: &WrappedKey,
) -> Result<bool, CipherError> {
    let now = unix_millis(std::time::SystemTime::now());
    let n = on_pool!(backend, pool => {
        sqlx::query("INSERT INTO tenant_data_keys (tenant, version, kek_id, wrapped, created_at_ms) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
            .bind(tenant.as_str())
            .bind(i64::from(key.version))
            .bind(&key.kek_id)
            .bind(b64().encode(&key.wrapped))
            .bind(now)
            .execute(pool)
            .await
            .map_err(store_err)?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Replaces the wrapping of one key (KEK rotation).
pub(crate) async fn rewrap(
    backend: &Backend,
    tenant: &str,
    version: u32,
    kek_id: &str,
    wrapped: &[u8],
) -> Result<(), CipherError> {
    on_pool!(backend, pool => {
        sqlx::query("UPDATE tenant_data_keys SET kek_id = $1, wrapped = $2 \
                     WHERE tenant = $3 AND version = $4")
            .bind(kek_id)
            .bind(b64().encode(wrapped))
            .bind(tenant)
            .bind(i64::from(version))
            .execute(pool)
            .await
            .map_err(store_err)?
            .rows_affected()
    });
    Ok(())
}

/// Every stored key: `(tenant, version, kek_id, wrapped)`.
pub(crate) async fn all(backend: &Backend) -> Result<Vec<(String, WrappedKey)>, CipherError> {
    on_pool!(backend, pool => {
        sqlx::query("SELECT tenant, version, kek_id, wrapped FROM tenant_data_keys \
                     ORDER BY tenant, version")
            .fetch_all(pool)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|r| -> Result<(String, WrappedKey), CipherError> {
                let version: i64 = r.try_get(1).map_err(store_err)?;
                let wrapped: String = r.try_get(3).map_err(store_err)?;
                Ok((r.try_get(0).map_err(store_err)?, WrappedKey {
                    version: u32::try_from(version).map_err(store_err)?,
                    kek_id: r.try_get(2).map_err(store_err)?,
                    wrapped: b64().decode(wrapped).map_err(store_err)?,
                }))
            })
            .collect()
    })
}

/// Destroys every data key of `tenant` and records the shred, in one transaction; returns
/// how many keys were destroyed.
pub(crate) async fn shred(backend: &Backend, tenant: &TenantId) -> Result<u64, StoreError> {
    let now = unix_millis(std::time::SystemTime::now());
    on_pool!(backend, pool => {
        let mut tx = pool.begin().await?;
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM tenant_data_keys WHERE tenant = $1")
            .bind(tenant.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let prior: Option<i64> = sqlx::query_scalar(
            "SELECT last_version FROM tenant_key_shreds WHERE tenant = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM tenant_data_keys WHERE tenant = $1")
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let last = last.unwrap_or(0).max(prior.unwrap_or(0));
        sqlx::query("INSERT INTO tenant_key_shreds (tenant, last_version, shredded_at_ms) \
                     VALUES ($1, $2, $3) ON CONFLICT (tenant) DO UPDATE \
                     SET last_version = excluded.last_version, shredded_at_ms = excluded.shredded_at_ms")
            .bind(tenant.as_str())
            .bind(last)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted)
    })
}
