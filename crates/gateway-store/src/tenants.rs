//! [`TenantStore`] for [`SqlStore`].

use async_trait::async_trait;
use gateway_core::store::{Tenant, TenantStore, unix_millis};
use gateway_core::{GatewayError, TenantId};

use crate::connect::SqlStore;
use crate::error::{StoreError, conflict, not_found};
use crate::pool::on_pool;
use crate::rows::{LimitBinds, RowExt, list_from_json, list_to_json};

const COLUMNS: &str = "id, name, enabled, allowed_models, allowed_regions, rpm, tpm, max_concurrency, \
                       budget_usd_daily, budget_usd_monthly, created_at_ms, rps, rpd, tpd, allowed_networks, \
                       threat_intel_opt_out";

fn tenant_from_row(row: &impl RowExt) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId::new(&row.text("id")?),
        name: row.text("name")?,
        enabled: row.flag("enabled")?,
        allowed_models: list_from_json("allowed_models", row.opt_text("allowed_models")?)?,
        allowed_regions: list_from_json("allowed_regions", row.opt_text("allowed_regions")?)?,
        allowed_networks: list_from_json("allowed_networks", row.opt_text("allowed_networks")?)?,
        threat_intel_opt_out: row.flag("threat_intel_opt_out")?,
        limits: row.limits()?,
        created_at: row.time("created_at_ms")?,
    })
}

#[async_trait]
impl TenantStore for SqlStore {
    async fn create_tenant(&self, t: &Tenant) -> Result<(), GatewayError> {
        let l = LimitBinds::of(&t.limits);
        let sql = "INSERT INTO tenants (id, name, enabled, allowed_models, allowed_regions, rpm, tpm, \
                   max_concurrency, budget_usd_daily, budget_usd_monthly, created_at_ms, rps, rpd, tpd, \
                   allowed_networks, threat_intel_opt_out) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
        let result = on_pool!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(t.id.as_str())
                .bind(&t.name)
                .bind(t.enabled)
                .bind(list_to_json(t.allowed_models.as_deref()))
                .bind(list_to_json(t.allowed_regions.as_deref()))
                .bind(l.rpm)
                .bind(l.tpm)
                .bind(l.max_concurrency)
                .bind(l.daily)
                .bind(l.monthly)
                .bind(unix_millis(t.created_at))
                .bind(l.rps)
                .bind(l.rpd)
                .bind(l.tpd)
                .bind(list_to_json(t.allowed_networks.as_deref()))
                .bind(t.threat_intel_opt_out)
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result.map_err(StoreError::from) {
            Ok(()) => Ok(()),
            Err(e) if e.is_unique_violation() => Err(conflict("tenant", t.id.as_str())),
            Err(e) => Err(e.into_gateway()),
        }
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, GatewayError> {
        let sql = format!("SELECT {COLUMNS} FROM tenants WHERE id = $1");
        let sql = sqlx::AssertSqlSafe(sql);
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(pool).await.map_err(StoreError::from)?;
            Ok(row.map(|r| tenant_from_row(&r)).transpose()?)
        })
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, GatewayError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM tenants ORDER BY id"));
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await.map_err(StoreError::from)?;
            Ok(rows.iter().map(tenant_from_row).collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn update_tenant(&self, t: &Tenant) -> Result<Tenant, GatewayError> {
        let l = LimitBinds::of(&t.limits);
        let sql = "UPDATE tenants SET name = $2, enabled = $3, allowed_models = $4, allowed_regions = $5, \
                   rpm = $6, tpm = $7, max_concurrency = $8, budget_usd_daily = $9, budget_usd_monthly = $10, \
                   rps = $11, rpd = $12, tpd = $13, allowed_networks = $14, threat_intel_opt_out = $15 \
                   WHERE id = $1";
        let updated = on_pool!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(t.id.as_str())
                .bind(&t.name)
                .bind(t.enabled)
                .bind(list_to_json(t.allowed_models.as_deref()))
                .bind(list_to_json(t.allowed_regions.as_deref()))
                .bind(l.rpm)
                .bind(l.tpm)
                .bind(l.max_concurrency)
                .bind(l.daily)
                .bind(l.monthly)
                .bind(l.rps)
                .bind(l.rpd)
                .bind(l.tpd)
                .bind(list_to_json(t.allowed_networks.as_deref()))
                .bind(t.threat_intel_opt_out)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(StoreError::from)?
        });
        if updated == 0 {
            return Err(not_found("tenant", t.id.as_str()));
        }
        self.get_tenant(&t.id)
            .await?
            .ok_or_else(|| not_found("tenant", t.id.as_str()))
    }

    async fn delete_tenant(&self, id: &TenantId) -> Result<(), GatewayError> {
        let deleted = on_pool!(&self.backend, pool => {
            sqlx::query("DELETE FROM tenants WHERE id = $1")
                .bind(id.as_str())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(StoreError::from)?
        });
        if deleted == 0 {
            return Err(not_found("tenant", id.as_str()));
        }
        // Crypto-shredding: with the tenant go its data keys, and with them everything sealed
        // for it (cache entries, stored content, backups of either).
        if let Some(keyring) = self.keyring.get() {
            keyring.shred(id).await?;
        }
        Ok(())
    }
}
