//! Re-encryption after a data-key rotation (or after encryption was turned on): every sealed
//! column of a tenant's rows not sealed with its current key is opened and sealed again.
//! Paged by id and compare-and-set per column, so it runs while traffic writes the same tables.

use gateway_core::TenantId;
use gateway_core::encryption::ContentCipher;
use sqlx::{AssertSqlSafe, Row};

use super::from_text;
use crate::connect::SqlStore;
use crate::error::StoreError;
use crate::pool::on_pool;

/// A table with sealed TEXT columns, keyed by `id` and scoped by `tenant`.
struct SealedTable {
    name: &'static str,
    columns: &'static [&'static str],
    record: fn(&str, &str) -> String,
}

const TABLES: &[SealedTable] = &[
    SealedTable {
        name: "responses",
        columns: &["response", "input_items", "conversation"],
        record: crate::responses::record,
    },
    SealedTable {
        name: "feedback",
        columns: &["comment"],
        record: crate::feedback::record,
    },
    SealedTable {
        name: "async_jobs",
        columns: &["request", "result_headers", "result_body"],
        record: crate::async_jobs::record,
    },
    SealedTable {
        name: "prompt_templates",
        columns: &["body"],
        record: crate::templates::record,
    },
];

const PAGE: i64 = 200;

/// What a re-encryption pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReencryptReport {
    /// Values sealed again with the current key (or sealed for the first time).
    pub resealed: u64,
    /// Values already sealed with the current key.
    pub current: u64,
}

impl SqlStore {
    /// Seals again, with `tenant`'s current data key, every stored value sealed with an older
    /// one or not sealed at all. Does nothing without a keyring.
    pub async fn reencrypt_tenant(&self, tenant: &TenantId) -> Result<ReencryptReport, StoreError> {
        let mut report = ReencryptReport::default();
        let Some(keyring) = self.keyring.get().cloned() else {
            return Ok(report);
        };
        let current = keyring.current_version(tenant).await?;
        for table in TABLES {
            for column in table.columns {
                let select = format!(
                    "SELECT id, {column} FROM {t} WHERE tenant = $1 AND id > $2 \
                     AND {column} IS NOT NULL ORDER BY id LIMIT $3",
                    t = table.name
                );
                let update = format!(
                    "UPDATE {t} SET {column} = $1 WHERE tenant = $2 AND id = $3 AND {column} = $4",
                    t = table.name
                );
                let mut after = String::new();
                loop {
                    let rows: Vec<(String, String)> = on_pool!(&self.backend, pool => {
                        sqlx::query(AssertSqlSafe(select.clone()))
                            .bind(tenant.as_str()).bind(&after).bind(PAGE)
                            .fetch_all(pool).await?
                            .iter()
                            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                            .collect::<Result<Vec<_>, sqlx::Error>>()?
                    });
                    let Some((last, _)) = rows.last() else { break };
                    after = last.clone();
                    for (id, value) in &rows {
                        let sealed = from_text(value).transpose()?;
                        if sealed.as_deref().and_then(|s| keyring.key_version(s)) == Some(current) {
                            report.current += 1;
                            continue;
                        }
                        let record = (table.record)(id, column);
                        let plain = self.open_text(tenant, &record, value.clone()).await?;
                        let resealed = self.seal_text(tenant, &record, &plain).await?;
                        on_pool!(&self.backend, pool => {
                            sqlx::query(AssertSqlSafe(update.clone()))
                                .bind(&resealed).bind(tenant.as_str()).bind(id).bind(value)
                                .execute(pool).await?.rows_affected()
                        });
                        report.resealed += 1;
                    }
                    if rows.len() < PAGE as usize {
                        break;
                    }
                }
            }
        }
        Ok(report)
    }
}
