//! [`BatchStore`] for [`SqlStore`], the batch-level half: creating, reading, listing and
//! cancelling batches (every statement scoped to the tenant), and the leased batch-level work
//! (validation, finalization). The line-level half is [`crate::batch_items`].
//!
//! Leases are compare-and-set updates: a batch is claimed by one `UPDATE` whose condition is
//! that no other holder's lease is current; on PostgreSQL the candidate row is picked with
//! `FOR UPDATE SKIP LOCKED`, so that instances claiming at once never wait on each other.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use gateway_core::store::{
    BatchCounts, BatchQuery, BatchRecord, BatchStatus, BatchStore, FinishedItem, ItemOutcome,
    LeasedItem, NewItem, unix_millis,
};
use gateway_core::{GatewayError, TenantId};
use serde_json::Value;
use sqlx::AssertSqlSafe;

use crate::connect::SqlStore;
use crate::error::{StoreError, conflict};
use crate::pool::{Backend, on_pool};
use crate::rows::RowExt;

const COLUMNS: &str = "id, tenant, owner, endpoint, input_file_id, completion_window, metadata, \
     status, errors, output_file_id, error_file_id, total, completed, failed, created_at_ms, \
     expires_at_ms, in_progress_at_ms, finalizing_at_ms, completed_at_ms, failed_at_ms, \
     expired_at_ms, cancelling_at_ms, cancelled_at_ms";

/// Live counts of a batch's lines (`total` is the batch row's).
const LIVE_COUNTS: &str = "SELECT \
     CAST(COALESCE(SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS done, \
     CAST(COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed \
     FROM batch_items WHERE batch_id = $1";

pub(crate) fn ms(t: SystemTime) -> i64 {
    unix_millis(t)
}

pub(crate) fn lease_end(now: SystemTime, lease: Duration) -> i64 {
    ms(now).saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

fn json_col(row: &impl RowExt, col: &str) -> Result<Option<Value>, StoreError> {
    row.opt_text(col)?
        .map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

fn batch_from_row(row: &impl RowExt) -> Result<BatchRecord, StoreError> {
    let status = row.text("status")?;
    Ok(BatchRecord {
        id: row.text("id")?,
        tenant: TenantId::new(&row.text("tenant")?),
        owner: json_col(row, "owner")?.unwrap_or(Value::Null),
        endpoint: row.text("endpoint")?,
        input_file_id: row.text("input_file_id")?,
        completion_window: row.text("completion_window")?,
        metadata: json_col(row, "metadata")?,
        status: BatchStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("batch status '{status}'")))?,
        errors: json_col(row, "errors")?,
        output_file_id: row.opt_text("output_file_id")?,
        error_file_id: row.opt_text("error_file_id")?,
        created_at: row.time("created_at_ms")?,
        expires_at: row.time("expires_at_ms")?,
        in_progress_at: row.opt_time("in_progress_at_ms")?,
        finalizing_at: row.opt_time("finalizing_at_ms")?,
        completed_at: row.opt_time("completed_at_ms")?,
        failed_at: row.opt_time("failed_at_ms")?,
        expired_at: row.opt_time("expired_at_ms")?,
        cancelling_at: row.opt_time("cancelling_at_ms")?,
        cancelled_at: row.opt_time("cancelled_at_ms")?,
        counts: BatchCounts {
            total: row.uint("total")?,
            completed: row.uint("completed")?,
            failed: row.uint("failed")?,
        },
    })
}

impl SqlStore {
    /// `batch` with live counts while its lines run (the stored ones once it ended).
    async fn with_counts(&self, mut batch: BatchRecord) -> Result<BatchRecord, GatewayError> {
        if batch.status.is_terminal() || batch.status == BatchStatus::Validating {
            return Ok(batch);
        }
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(LIVE_COUNTS).bind(&batch.id)
                .fetch_one(pool).await.map_err(StoreError::from)?;
            batch.counts.completed = row.uint("done")?;
            batch.counts.failed = row.uint("failed")?;
        });
        Ok(batch)
    }

    async fn one_batch(
        &self,
        sql: &'static str,
        a: &str,
        b: Option<&str>,
    ) -> Result<Option<BatchRecord>, GatewayError> {
        let sql = AssertSqlSafe(sql.replace("{COLUMNS}", COLUMNS));
        let found = on_pool!(&self.backend, pool => {
            let mut q = sqlx::query(sql).bind(a);
            if let Some(b) = b {
                q = q.bind(b);
            }
            let row = q.fetch_optional(pool).await.map_err(StoreError::from)?;
            row.map(|r| batch_from_row(&r)).transpose()?
        });
        match found {
            Some(b) => Ok(Some(self.with_counts(b).await?)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl BatchStore for SqlStore {
    async fn create_batch(&self, b: &BatchRecord) -> Result<(), GatewayError> {
        let sql = "INSERT INTO batches (id, tenant, owner, endpoint, input_file_id, \
                   completion_window, metadata, status, created_at_ms, expires_at_ms) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let result = on_pool!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(&b.id)
                .bind(b.tenant.as_str())
                .bind(b.owner.to_string())
                .bind(&b.endpoint)
                .bind(&b.input_file_id)
                .bind(&b.completion_window)
                .bind(b.metadata.as_ref().map(Value::to_string))
                .bind(b.status.as_str())
                .bind(ms(b.created_at))
                .bind(ms(b.expires_at))
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result.map_err(StoreError::from) {
            Ok(()) => Ok(()),
            Err(e) if e.is_unique_violation() => Err(conflict("batch", &b.id)),
            Err(e) => Err(e.into_gateway()),
        }
    }

    async fn get_batch(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<BatchRecord>, GatewayError> {
        self.one_batch(
            "SELECT {COLUMNS} FROM batches WHERE tenant = $1 AND id = $2",
            tenant.as_str(),
            Some(id),
        )
        .await
    }

    async fn get_batch_any(&self, id: &str) -> Result<Option<BatchRecord>, GatewayError> {
        self.one_batch("SELECT {COLUMNS} FROM batches WHERE id = $1", id, None)
            .await
    }

    async fn list_batches(
        &self,
        tenant: &TenantId,
        q: &BatchQuery,
    ) -> Result<Vec<BatchRecord>, GatewayError> {
        let sql = AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM batches WHERE tenant = $1 AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        ));
        let rows = on_pool!(&self.backend, pool => {
            let rows = sqlx::query(sql)
                .bind(tenant.as_str())
                .bind(q.after.as_deref())
                .bind(i64::from(q.limit))
                .fetch_all(pool).await.map_err(StoreError::from)?;
            rows.iter().map(batch_from_row).collect::<Result<Vec<_>, _>>()?
        });
        let mut out = Vec::with_capacity(rows.len());
        for b in rows {
            out.push(self.with_counts(b).await?);
        }
        Ok(out)
    }

    async fn cancel_batch(
        &self,
        tenant: &TenantId,
        id: &str,
        now: SystemTime,
    ) -> Result<Option<BatchRecord>, GatewayError> {
        let sql = "UPDATE batches SET status = 'cancelling', cancelling_at_ms = $3 \
                   WHERE tenant = $1 AND id = $2 AND status IN ('validating', 'in_progress')";
        on_pool!(&self.backend, pool => {
            sqlx::query(sql).bind(tenant.as_str()).bind(id).bind(ms(now))
                .execute(pool).await.map_err(StoreError::from)?;
        });
        self.get_batch(tenant, id).await
    }

    async fn claim_batch(
        &self,
        holder: &str,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Option<BatchRecord>, GatewayError> {
        let lock = match self.backend {
            Backend::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite(_) => "",
        };
        let sql = AssertSqlSafe(format!(
            "UPDATE batches SET lease_holder = $1, lease_until_ms = $2 WHERE id = (\
             SELECT b.id FROM batches b \
             WHERE (b.lease_until_ms IS NULL OR b.lease_until_ms < $3) AND (\
               b.status IN ('validating', 'finalizing') \
               OR (b.status = 'in_progress' AND b.expires_at_ms < $3) \
               OR (b.status = 'cancelling' AND NOT EXISTS (SELECT 1 FROM batch_items i \
                   WHERE i.batch_id = b.id AND i.state = 'leased' AND i.lease_until_ms >= $3))) \
             ORDER BY b.id LIMIT 1{lock}) RETURNING {COLUMNS}"
        ));
        let found = on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql)
                .bind(holder)
                .bind(lease_end(now, lease))
                .bind(ms(now))
                .fetch_optional(pool).await.map_err(StoreError::from)?;
            row.map(|r| batch_from_row(&r)).transpose()?
        });
        Ok(found)
    }

    async fn release_batch(&self, id: &str, holder: &str) -> Result<(), GatewayError> {
        let sql = "UPDATE batches SET lease_holder = NULL, lease_until_ms = NULL \
                   WHERE id = $1 AND lease_holder = $2";
        on_pool!(&self.backend, pool => {
            sqlx::query(sql).bind(id).bind(holder)
                .execute(pool).await.map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn add_items(
        &self,
        id: &str,
        holder: &str,
        items: &[NewItem],
        replace: bool,
    ) -> Result<(), GatewayError> {
        crate::batch_items::add_items(self, id, holder, items, replace).await
    }

    async fn end_validation(
        &self,
        id: &str,
        holder: &str,
        result: Result<u64, Value>,
        now: SystemTime,
    ) -> Result<bool, GatewayError> {
        let done = on_pool!(&self.backend, pool => {
            match &result {
                Ok(total) => {
                    let total = i64::try_from(*total).unwrap_or(i64::MAX);
                    // The total stands even if the batch was cancelled meanwhile.
                    sqlx::query("UPDATE batches SET total = $3 WHERE id = $1 AND lease_holder = $2")
                        .bind(id).bind(holder).bind(total)
                        .execute(pool).await.map_err(StoreError::from)?;
                    sqlx::query("UPDATE batches SET status = 'in_progress', in_progress_at_ms = $3, \
                                 lease_holder = NULL, lease_until_ms = NULL \
                                 WHERE id = $1 AND lease_holder = $2 AND status = 'validating'")
                        .bind(id).bind(holder).bind(ms(now))
                        .execute(pool).await.map_err(StoreError::from)?.rows_affected()
                }
                Err(errors) => {
                    let done = sqlx::query("UPDATE batches SET status = 'failed', failed_at_ms = $3, \
                                 errors = $4, lease_holder = NULL, lease_until_ms = NULL \
                                 WHERE id = $1 AND lease_holder = $2 \
                                 AND status IN ('validating', 'cancelling')")
                        .bind(id).bind(holder).bind(ms(now)).bind(errors.to_string())
                        .execute(pool).await.map_err(StoreError::from)?.rows_affected();
                    sqlx::query("DELETE FROM batch_items WHERE batch_id = $1")
                        .bind(id).execute(pool).await.map_err(StoreError::from)?;
                    done
                }
            }
        });
        Ok(done > 0)
    }

    async fn expire_batch(&self, id: &str, now: SystemTime) -> Result<(), GatewayError> {
        on_pool!(&self.backend, pool => {
            sqlx::query("UPDATE batch_items SET state = 'failed', result = NULL, \
                         lease_holder = NULL, lease_until_ms = NULL \
                         WHERE batch_id = $1 AND state IN ('pending', 'leased')")
                .bind(id).execute(pool).await.map_err(StoreError::from)?;
            sqlx::query("UPDATE batches SET status = 'finalizing', finalizing_at_ms = $2, \
                         expired_at_ms = $2 WHERE id = $1 AND status = 'in_progress'")
                .bind(id).bind(ms(now)).execute(pool).await.map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn finish_drained(&self, now: SystemTime) -> Result<u64, GatewayError> {
        let sql = "UPDATE batches SET status = 'finalizing', finalizing_at_ms = $1 \
                   WHERE status = 'in_progress' AND NOT EXISTS (SELECT 1 FROM batch_items i \
                   WHERE i.batch_id = batches.id AND i.state IN ('pending', 'leased'))";
        on_pool!(&self.backend, pool => {
            let done = sqlx::query(sql).bind(ms(now))
                .execute(pool).await.map_err(StoreError::from)?;
            Ok(done.rows_affected())
        })
    }

    async fn finished_items(
        &self,
        id: &str,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<FinishedItem>, GatewayError> {
        crate::batch_items::finished_items(self, id, after_line, limit).await
    }

    async fn end_batch(
        &self,
        id: &str,
        holder: &str,
        output_file_id: Option<&str>,
        error_file_id: Option<&str>,
        now: SystemTime,
    ) -> Result<bool, GatewayError> {
        let sql = "UPDATE batches SET \
             status = CASE WHEN status = 'cancelling' THEN 'cancelled' \
                 WHEN expired_at_ms IS NOT NULL THEN 'expired' ELSE 'completed' END, \
             completed_at_ms = CASE WHEN status = 'finalizing' AND expired_at_ms IS NULL \
                 THEN $3 ELSE completed_at_ms END, \
             cancelled_at_ms = CASE WHEN status = 'cancelling' THEN $3 ELSE cancelled_at_ms END, \
             output_file_id = $4, error_file_id = $5, \
             completed = (SELECT COUNT(*) FROM batch_items WHERE batch_id = $1 AND state = 'done'), \
             failed = (SELECT COUNT(*) FROM batch_items WHERE batch_id = $1 AND state = 'failed'), \
             lease_holder = NULL, lease_until_ms = NULL \
             WHERE id = $1 AND lease_holder = $2 AND status IN ('finalizing', 'cancelling')";
        on_pool!(&self.backend, pool => {
            let done = sqlx::query(sql)
                .bind(id).bind(holder).bind(ms(now)).bind(output_file_id).bind(error_file_id)
                .execute(pool).await.map_err(StoreError::from)?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn lease_items(
        &self,
        holder: &str,
        limit: u32,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Vec<LeasedItem>, GatewayError> {
        crate::batch_items::lease_items(self, holder, limit, now, lease).await
    }

    async fn renew_leases(
        &self,
        holder: &str,
        now: SystemTime,
        lease: Duration,
    ) -> Result<u64, GatewayError> {
        crate::batch_items::renew_leases(self, holder, now, lease).await
    }

    async fn complete_item(
        &self,
        batch_id: &str,
        line: u64,
        holder: &str,
        outcome: ItemOutcome,
        result: &str,
    ) -> Result<bool, GatewayError> {
        crate::batch_items::complete_item(self, batch_id, line, holder, outcome, result).await
    }

    async fn defer_item(
        &self,
        batch_id: &str,
        line: u64,
        holder: &str,
        not_before: SystemTime,
    ) -> Result<bool, GatewayError> {
        crate::batch_items::defer_item(self, batch_id, line, holder, not_before).await
    }
}
