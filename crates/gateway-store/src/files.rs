//! [`FileStore`] for [`SqlStore`]: file metadata, every statement scoped to the tenant.

use async_trait::async_trait;
use gateway_core::store::{FileQuery, FileRecord, FileStore, StorageUsage, unix_millis};
use gateway_core::{GatewayError, TenantId};

use crate::connect::SqlStore;
use crate::error::{StoreError, conflict};
use crate::pool::on_pool;
use crate::rows::RowExt;

const COLUMNS: &str = "id, tenant, filename, purpose, bytes, created_at_ms";

fn file_from_row(row: &impl RowExt) -> Result<FileRecord, StoreError> {
    Ok(FileRecord {
        id: row.text("id")?,
        tenant: TenantId::new(&row.text("tenant")?),
        filename: row.text("filename")?,
        purpose: row.text("purpose")?,
        bytes: row.uint("bytes")?,
        created_at: row.time("created_at_ms")?,
    })
}

#[async_trait]
impl FileStore for SqlStore {
    async fn create_file(&self, f: &FileRecord) -> Result<(), GatewayError> {
        let sql = "INSERT INTO files (id, tenant, filename, purpose, bytes, created_at_ms) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        let bytes = i64::try_from(f.bytes).unwrap_or(i64::MAX);
        let result = on_pool!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(&f.id)
                .bind(f.tenant.as_str())
                .bind(&f.filename)
                .bind(&f.purpose)
                .bind(bytes)
                .bind(unix_millis(f.created_at))
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result.map_err(StoreError::from) {
            Ok(()) => Ok(()),
            Err(e) if e.is_unique_violation() => Err(conflict("file", &f.id)),
            Err(e) => Err(e.into_gateway()),
        }
    }

    async fn get_file(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<FileRecord>, GatewayError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM files WHERE tenant = $1 AND id = $2"
        ));
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql).bind(tenant.as_str()).bind(id)
                .fetch_optional(pool).await.map_err(StoreError::from)?;
            Ok(row.map(|r| file_from_row(&r)).transpose()?)
        })
    }

    async fn list_files(
        &self,
        tenant: &TenantId,
        q: &FileQuery,
    ) -> Result<Vec<FileRecord>, GatewayError> {
        let (cmp, order) = if q.ascending {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        // Only fixed fragments are formatted in; every value is bound.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM files WHERE tenant = $1 \
             AND ($2 IS NULL OR purpose = $2) AND ($3 IS NULL OR id {cmp} $3) \
             ORDER BY id {order} LIMIT $4"
        ));
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(sql)
                .bind(tenant.as_str())
                .bind(q.purpose.as_deref())
                .bind(q.after.as_deref())
                .bind(i64::from(q.limit))
                .fetch_all(pool).await.map_err(StoreError::from)?;
            Ok(rows.iter().map(file_from_row).collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn tenant_usage(&self, tenant: &TenantId) -> Result<StorageUsage, GatewayError> {
        let sql =
            "SELECT COUNT(*), CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM files WHERE tenant = $1";
        let (files, bytes): (i64, i64) = on_pool!(&self.backend, pool => {
            sqlx::query_as(sql).bind(tenant.as_str())
                .fetch_one(pool).await.map_err(StoreError::from)?
        });
        Ok(StorageUsage {
            files: u64::try_from(files).unwrap_or_default(),
            bytes: u64::try_from(bytes).unwrap_or_default(),
        })
    }

    async fn delete_file(&self, tenant: &TenantId, id: &str) -> Result<bool, GatewayError> {
        let sql = "DELETE FROM files WHERE tenant = $1 AND id = $2";
        on_pool!(&self.backend, pool => {
            let done = sqlx::query(sql).bind(tenant.as_str()).bind(id)
                .execute(pool).await.map_err(StoreError::from)?;
            Ok(done.rows_affected() > 0)
        })
    }
}
