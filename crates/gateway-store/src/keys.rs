//! [`KeyStore`] for [`SqlStore`].

use std::time::SystemTime;

use async_trait::async_trait;
use gateway_core::store::{ApiKeyRecord, KeyStore, unix_millis};
use gateway_core::{GatewayError, TenantId};
use sqlx::AssertSqlSafe;

use crate::connect::SqlStore;
use crate::error::{StoreError, conflict, not_found};
use crate::pool::on_pool;
use crate::rows::{
    LimitBinds, RowExt, json_from_text, list_from_json, list_to_json, roles_from_json,
    roles_to_json,
};

const COLUMNS: &str = "id, tenant, name, prefix, hash, roles, allowed_models, rpm, tpm, max_concurrency, \
                       budget_usd_daily, budget_usd_monthly, expires_at_ms, metadata, enabled, created_at_ms, \
                       last_used_at_ms, revoked_at_ms, rps, rpd, tpd, allowed_networks";

fn key_from_row(row: &impl RowExt) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: row.text("id")?,
        tenant: TenantId::new(&row.text("tenant")?),
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        hash: row.text("hash")?,
        roles: roles_from_json(&row.text("roles")?)?,
        allowed_models: list_from_json("allowed_models", row.opt_text("allowed_models")?)?,
        allowed_networks: list_from_json("allowed_networks", row.opt_text("allowed_networks")?)?,
        limits: row.limits()?,
        expires_at: row.opt_time("expires_at_ms")?,
        metadata: json_from_text("metadata", &row.text("metadata")?)?,
        enabled: row.flag("enabled")?,
        created_at: row.time("created_at_ms")?,
        last_used_at: row.opt_time("last_used_at_ms")?,
        revoked_at: row.opt_time("revoked_at_ms")?,
    })
}

impl SqlStore {
    async fn key_where(
        &self,
        clause: &str,
        value: &str,
    ) -> Result<Option<ApiKeyRecord>, GatewayError> {
        let sql = AssertSqlSafe(format!("SELECT {COLUMNS} FROM api_keys WHERE {clause}"));
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql).bind(value).fetch_optional(pool).await.map_err(StoreError::from)?;
            Ok(row.map(|r| key_from_row(&r)).transpose()?)
        })
    }
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn create_key(&self, k: &ApiKeyRecord) -> Result<(), GatewayError> {
        let l = LimitBinds::of(&k.limits);
        let sql = "INSERT INTO api_keys (id, tenant, name, prefix, hash, roles, allowed_models, rpm, tpm, \
                   max_concurrency, budget_usd_daily, budget_usd_monthly, expires_at_ms, metadata, enabled, \
                   created_at_ms, last_used_at_ms, revoked_at_ms, rps, rpd, tpd, allowed_networks) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
                   $19, $20, $21, $22)";
        let result = on_pool!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(&k.id)
                .bind(k.tenant.as_str())
                .bind(&k.name)
                .bind(&k.prefix)
                .bind(&k.hash)
                .bind(roles_to_json(&k.roles))
                .bind(list_to_json(k.allowed_models.as_deref()))
                .bind(l.rpm)
                .bind(l.tpm)
                .bind(l.max_concurrency)
                .bind(l.daily)
                .bind(l.monthly)
                .bind(k.expires_at.map(unix_millis))
                .bind(k.metadata.to_string())
                .bind(k.enabled)
                .bind(unix_millis(k.created_at))
                .bind(k.last_used_at.map(unix_millis))
                .bind(k.revoked_at.map(unix_millis))
                .bind(l.rps)
                .bind(l.rpd)
                .bind(l.tpd)
                .bind(list_to_json(k.allowed_networks.as_deref()))
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result.map_err(StoreError::from) {
            Ok(()) => Ok(()),
            Err(e) if e.is_unique_violation() => Err(conflict("key", &k.id)),
            Err(e) if e.is_foreign_key_violation() => Err(not_found("tenant", k.tenant.as_str())),
            Err(e) => Err(e.into_gateway()),
        }
    }

    async fn get_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, GatewayError> {
        self.key_where("id = $1", id).await
    }

    async fn get_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, GatewayError> {
        self.key_where("hash = $1", hash).await
    }

    async fn list_keys(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<ApiKeyRecord>, GatewayError> {
        let filter = if tenant.is_some() {
            "WHERE tenant = $1"
        } else {
            ""
        };
        let sql = AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_keys {filter} ORDER BY created_at_ms, id"
        ));
        on_pool!(&self.backend, pool => {
            let mut query = sqlx::query(sql);
            if let Some(t) = tenant {
                query = query.bind(t.as_str());
            }
            let rows = query.fetch_all(pool).await.map_err(StoreError::from)?;
            Ok(rows.iter().map(key_from_row).collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn update_key(&self, k: &ApiKeyRecord) -> Result<ApiKeyRecord, GatewayError> {
        let l = LimitBinds::of(&k.limits);
        let sql = "UPDATE api_keys SET name = $2, roles = $3, allowed_models = $4, rpm = $5, tpm = $6, \
                   max_concurrency = $7, budget_usd_daily = $8, budget_usd_monthly = $9, expires_at_ms = $10, \
                   metadata = $11, enabled = $12, rps = $13, rpd = $14, tpd = $15, allowed_networks = $16 \
                   WHERE id = $1 AND revoked_at_ms IS NULL";
        let updated = on_pool!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(&k.id)
                .bind(&k.name)
                .bind(roles_to_json(&k.roles))
                .bind(list_to_json(k.allowed_models.as_deref()))
                .bind(l.rpm)
                .bind(l.tpm)
                .bind(l.max_concurrency)
                .bind(l.daily)
                .bind(l.monthly)
                .bind(k.expires_at.map(unix_millis))
                .bind(k.metadata.to_string())
                .bind(k.enabled)
                .bind(l.rps)
                .bind(l.rpd)
                .bind(l.tpd)
                .bind(list_to_json(k.allowed_networks.as_deref()))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(StoreError::from)?
        });
        let stored = self
            .get_key(&k.id)
            .await?
            .ok_or_else(|| not_found("key", &k.id))?;
        if updated == 0 {
            return Err(GatewayError::invalid_param(
                "id",
                format!("key '{}' is revoked and cannot be changed.", k.id),
            ));
        }
        Ok(stored)
    }

    async fn revoke_key(&self, id: &str, at: SystemTime) -> Result<ApiKeyRecord, GatewayError> {
        on_pool!(&self.backend, pool => {
            sqlx::query(
                "UPDATE api_keys SET enabled = $2, revoked_at_ms = COALESCE(revoked_at_ms, $3) WHERE id = $1",
            )
            .bind(id)
            .bind(false)
            .bind(unix_millis(at))
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::from)?
        });
        self.get_key(id).await?.ok_or_else(|| not_found("key", id))
    }

    async fn touch_key_last_used(&self, id: &str, at: SystemTime) -> Result<(), GatewayError> {
        on_pool!(&self.backend, pool => {
            sqlx::query(
                "UPDATE api_keys SET last_used_at_ms = $2 \
                 WHERE id = $1 AND (last_used_at_ms IS NULL OR last_used_at_ms < $2)",
            )
            .bind(id)
            .bind(unix_millis(at))
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(|e| StoreError::from(e).into_gateway())
        })
    }
}
