//! [`TemplateStore`] for [`SqlStore`]: one row per template version (`prompt_templates`),
//! the definition sealed for the row's key. Every query names the tenant but the listing
//! of every tenant's templates (admins).

use async_trait::async_trait;
use gateway_core::store::{TemplateRecord, TemplateStore, unix_millis};
use gateway_core::{GatewayError, TenantId};

use crate::connect::SqlStore;
use crate::error::{StoreError, conflict};
use crate::pool::on_pool;
use crate::rows::RowExt;

const COLUMNS: &str = "id, tenant, name, version, description, body, created_at_ms, created_by";
const INSERT: &str = "INSERT INTO prompt_templates (id, tenant, name, version, description, \
                      body, created_at_ms, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const LATEST_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) AS v FROM prompt_templates WHERE tenant = $1 AND name = $2";
const DELETE: &str = "DELETE FROM prompt_templates WHERE tenant = $1 AND name = $2";
/// Writers racing for the same next version: the loser retries with the one after.
const ATTEMPTS: usize = 5;

/// The authenticated record id of one sealed column: `prompt_templates/<key>/<column>`.
pub(crate) fn record(key: &str, column: &str) -> String {
    format!("prompt_templates/{key}/{column}")
}

fn from_row(row: &impl RowExt) -> Result<TemplateRecord, StoreError> {
    Ok(TemplateRecord {
        key: row.text("id")?,
        tenant: TenantId::new(&row.text("tenant")?),
        id: row.text("name")?,
        version: u32::try_from(row.int("version")?).unwrap_or(u32::MAX),
        description: row.text("description")?,
        body: row.text("body")?,
        created_at: row.time("created_at_ms")?,
        created_by: row.text("created_by")?,
    })
}

impl SqlStore {
    async fn opened(
        &self,
        mut rows: Vec<TemplateRecord>,
    ) -> Result<Vec<TemplateRecord>, GatewayError> {
        for r in &mut rows {
            let body = std::mem::take(&mut r.body);
            r.body = self
                .open_text(&r.tenant, &record(&r.key, "body"), body)
                .await?;
        }
        Ok(rows)
    }

    async fn select(
        &self,
        sql: &str,
        binds: &[&str],
        version: Option<i64>,
    ) -> Result<Vec<TemplateRecord>, GatewayError> {
        let rows = on_pool!(&self.backend, pool => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
            for b in binds {
                q = q.bind(*b);
            }
            if let Some(v) = version {
                q = q.bind(v);
            }
            q.fetch_all(pool)
                .await
                .map_err(StoreError::from)?
                .iter()
                .map(from_row)
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        self.opened(rows).await
    }
}

#[async_trait]
impl TemplateStore for SqlStore {
    async fn add_template_version(&self, r: &TemplateRecord) -> Result<u32, GatewayError> {
        let body = self
            .seal_text(&r.tenant, &record(&r.key, "body"), &r.body)
            .await?;
        for _ in 0..ATTEMPTS {
            let latest: i64 = on_pool!(&self.backend, pool => {
                let row = sqlx::query(LATEST_VERSION)
                    .bind(r.tenant.as_str())
                    .bind(&r.id)
                    .fetch_one(pool)
                    .await
                    .map_err(StoreError::from)?;
                row.int("v")?
            });
            let version = latest + 1;
            let result = on_pool!(&self.backend, pool => {
                sqlx::query(INSERT)
                    .bind(&r.key)
                    .bind(r.tenant.as_str())
                    .bind(&r.id)
                    .bind(version)
                    .bind(&r.description)
                    .bind(&body)
                    .bind(unix_millis(r.created_at))
                    .bind(&r.created_by)
                    .execute(pool)
                    .await
                    .map(|_| ())
            });
            match result.map_err(StoreError::from) {
                Ok(()) => return Ok(u32::try_from(version).unwrap_or(u32::MAX)),
                // The key is fresh per call: a unique violation is another writer's version.
                Err(e) if e.is_unique_violation() => continue,
                Err(e) => return Err(e.into_gateway()),
            }
        }
        Err(conflict("template version of", &r.id))
    }

    async fn get_template(
        &self,
        tenant: &TenantId,
        id: &str,
        version: Option<u32>,
    ) -> Result<Option<TemplateRecord>, GatewayError> {
        let rows = match version {
            Some(v) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM prompt_templates WHERE tenant = $1 AND name = $2 \
                     AND version = $3"
                );
                self.select(&sql, &[tenant.as_str(), id], Some(i64::from(v)))
                    .await?
            }
            None => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM prompt_templates WHERE tenant = $1 AND name = $2 \
                     ORDER BY version DESC LIMIT 1"
                );
                self.select(&sql, &[tenant.as_str(), id], None).await?
            }
        };
        Ok(rows.into_iter().next())
    }

    async fn template_versions(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Vec<TemplateRecord>, GatewayError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM prompt_templates WHERE tenant = $1 AND name = $2 \
             ORDER BY version"
        );
        self.select(&sql, &[tenant.as_str(), id], None).await
    }

    async fn list_templates(
        &self,
        tenant: Option<&TenantId>,
        limit: u32,
    ) -> Result<Vec<TemplateRecord>, GatewayError> {
        let latest = "version = (SELECT MAX(version) FROM prompt_templates l \
                      WHERE l.tenant = t.tenant AND l.name = t.name)";
        let limit = i64::from(limit);
        match tenant {
            Some(tenant) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM prompt_templates t WHERE tenant = $1 AND {latest} \
                     ORDER BY name LIMIT $2"
                );
                self.select(&sql, &[tenant.as_str()], Some(limit)).await
            }
            None => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM prompt_templates t WHERE {latest} \
                     ORDER BY tenant, name LIMIT $1"
                );
                self.select(&sql, &[], Some(limit)).await
            }
        }
    }

    async fn delete_template(&self, tenant: &TenantId, id: &str) -> Result<u64, GatewayError> {
        let deleted = on_pool!(&self.backend, pool => {
            sqlx::query(DELETE)
                .bind(tenant.as_str())
                .bind(id)
                .execute(pool)
                .await
                .map_err(StoreError::from)?
                .rows_affected()
        });
        Ok(deleted)
    }
}
