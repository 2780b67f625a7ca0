//! [`AsyncJobStore`] for [`SqlStore`]: asynchronous single calls. Reads and cancellation are
//! scoped to the tenant; leasing picks jobs on PostgreSQL with `FOR UPDATE SKIP LOCKED` (so
//! that instances leasing at once take disjoint jobs without waiting), and an answer is
//! recorded only while its holder still leases the job (fencing).

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use gateway_core::store::{AsyncCounts, AsyncJob, AsyncJobStore, AsyncResult, AsyncStatus};
use gateway_core::{GatewayError, TenantId};
use sqlx::AssertSqlSafe;

use crate::batches::{lease_end, ms};
use crate::connect::SqlStore;
use crate::error::{StoreError, conflict};
use crate::pool::{Backend, on_pool};
use crate::rows::RowExt;

const COLUMNS: &str = "id, tenant, route, status, request, callback_url, result_status, \
     result_headers, result_body, attempts, retried, notified, created_at_ms, updated_at_ms, \
     completed_at_ms";

fn job_from_row(row: &impl RowExt) -> Result<AsyncJob, StoreError> {
    let status = row.text("status")?;
    let result = match row.opt_uint("result_status")? {
        Some(code) => Some(AsyncResult {
            status: u16::try_from(code)
                .map_err(|_| StoreError::Corrupt(format!("async result status {code}")))?,
            headers: row.opt_text("result_headers")?.unwrap_or_default(),
            body: row.opt_text("result_body")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(AsyncJob {
        id: row.text("id")?,
        tenant: TenantId::new(&row.text("tenant")?),
        route: row.text("route")?,
        status: AsyncStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("async job status '{status}'")))?,
        request: row.text("request")?,
        callback_url: row.opt_text("callback_url")?,
        result,
        attempts: u32::try_from(row.uint("attempts")?).unwrap_or(u32::MAX),
        retried: row.int("retried")? != 0,
        notified: row.int("notified")? != 0,
        created_at: row.time("created_at_ms")?,
        updated_at: row.time("updated_at_ms")?,
        completed_at: row.opt_time("completed_at_ms")?,
    })
}

/// The authenticated record id of one sealed column: `async_jobs/<id>/<column>`.
pub(crate) fn record(id: &str, column: &str) -> String {
    format!("async_jobs/{id}/{column}")
}

impl SqlStore {
    /// `job` with its request and result opened (they are sealed when a keyring is set).
    async fn open_job(&self, mut job: AsyncJob) -> Result<AsyncJob, StoreError> {
        let (t, id) = (job.tenant.clone(), job.id.clone());
        job.request = self
            .open_text(&t, &record(&id, "request"), job.request)
            .await?;
        if let Some(r) = &mut job.result {
            let body = std::mem::take(&mut r.body);
            r.body = self
                .open_text(&t, &record(&id, "result_body"), body)
                .await?;
            let headers = std::mem::take(&mut r.headers);
            r.headers = self
                .open_text(&t, &record(&id, "result_headers"), headers)
                .await?;
        }
        Ok(job)
    }

    async fn open_jobs(&self, jobs: Vec<AsyncJob>) -> Result<Vec<AsyncJob>, GatewayError> {
        let mut out = Vec::with_capacity(jobs.len());
        for j in jobs {
            out.push(self.open_job(j).await?);
        }
        Ok(out)
    }

    async fn one_job(&self, tenant: &TenantId, id: &str) -> Result<Option<AsyncJob>, GatewayError> {
        let sql = AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM async_jobs WHERE tenant = $1 AND id = $2"
        ));
        let row = on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql).bind(tenant.as_str()).bind(id)
                .fetch_optional(pool).await.map_err(StoreError::from)?;
            row.map(|r| job_from_row(&r)).transpose()?
        });
        match row {
            Some(j) => Ok(Some(self.open_job(j).await?)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl AsyncJobStore for SqlStore {
    async fn create_job(&self, j: &AsyncJob) -> Result<(), GatewayError> {
        let sql = "INSERT INTO async_jobs (id, tenant, route, status, request, callback_url, \
                   attempts, created_at_ms, updated_at_ms) \
                   VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)";
        let request = self
            .seal_text(&j.tenant, &record(&j.id, "request"), &j.request)
            .await?;
        let result = on_pool!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(&j.id)
                .bind(j.tenant.as_str())
                .bind(&j.route)
                .bind(j.status.as_str())
                .bind(&request)
                .bind(j.callback_url.as_deref())
                .bind(ms(j.created_at))
                .bind(ms(j.updated_at))
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result.map_err(StoreError::from) {
            Ok(()) => Ok(()),
            Err(e) if e.is_unique_violation() => Err(conflict("async job", &j.id)),
            Err(e) => Err(e.into_gateway()),
        }
    }

    async fn get_job(&self, tenant: &TenantId, id: &str) -> Result<Option<AsyncJob>, GatewayError> {
        self.one_job(tenant, id).await
    }

    async fn cancel_job(
        &self,
        tenant: &TenantId,
        id: &str,
        now: SystemTime,
    ) -> Result<Option<AsyncJob>, GatewayError> {
        let sql = "UPDATE async_jobs SET status = 'cancelled', updated_at_ms = $3, \
                   completed_at_ms = $3 \
                   WHERE tenant = $1 AND id = $2 AND status = 'pending'";
        on_pool!(&self.backend, pool => {
            sqlx::query(sql).bind(tenant.as_str()).bind(id).bind(ms(now))
                .execute(pool).await.map_err(StoreError::from)?;
        });
        self.one_job(tenant, id).await
    }

    async fn pending_jobs(&self) -> Result<u64, GatewayError> {
        let sql = "SELECT COUNT(*) AS n FROM async_jobs WHERE status = 'pending'";
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql).fetch_one(pool).await.map_err(StoreError::from)?;
            Ok(row.uint("n")?)
        })
    }

    async fn count_jobs(&self) -> Result<AsyncCounts, GatewayError> {
        let sql = "SELECT status, COUNT(*) AS n FROM async_jobs GROUP BY status";
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await.map_err(StoreError::from)?;
            let mut counts: AsyncCounts = AsyncStatus::ALL.iter().map(|s| (*s, 0)).collect();
            for row in &rows {
                let status = row.text("status")?;
                if let Some(entry) = counts.iter_mut().find(|(s, _)| s.as_str() == status) {
                    entry.1 = row.uint("n")?;
                }
            }
            Ok(counts)
        })
    }

    async fn lease_jobs(
        &self,
        holder: &str,
        limit: u32,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Vec<AsyncJob>, GatewayError> {
        // A job whose lease expired after it was already taken over once fails: it was in
        // flight at two stops.
        let give_up = "UPDATE async_jobs SET status = 'failed', lease_holder = NULL, \
                       lease_until_ms = NULL, updated_at_ms = $1, completed_at_ms = $1 \
                       WHERE status = 'running' AND lease_until_ms < $1 AND retried = 1";
        let lock = match self.backend {
            Backend::Postgres(_) => " FOR UPDATE OF c SKIP LOCKED",
            Backend::Sqlite(_) => "",
        };
        // `retried` reads the row as it was before this update.
        // The limit is written into the SQL, not bound: SQLite re-prepares a statement whose
        // LIMIT is a bound parameter every time it is bound again (docs/performance.md).
        let sql = AssertSqlSafe(format!(
            "UPDATE async_jobs SET status = 'running', attempts = attempts + 1, \
             retried = CASE WHEN status = 'running' THEN 1 ELSE retried END, \
             lease_holder = $1, lease_until_ms = $2, updated_at_ms = $3 \
             FROM (SELECT c.id AS p_id FROM async_jobs c \
                   WHERE c.status = 'pending' \
                      OR (c.status = 'running' AND c.lease_until_ms < $3) \
                   ORDER BY c.created_at_ms, c.id LIMIT {limit}{lock}) AS picked \
             WHERE id = picked.p_id \
             RETURNING {COLUMNS}"
        ));
        let jobs = on_pool!(&self.backend, pool => {
            sqlx::query(give_up).bind(ms(now))
                .execute(pool).await.map_err(StoreError::from)?;
            let rows = sqlx::query(sql)
                .bind(holder)
                .bind(lease_end(now, lease))
                .bind(ms(now))
                .fetch_all(pool).await.map_err(StoreError::from)?;
            let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>, StoreError>>()?;
            // RETURNING has no order: run the oldest first.
            jobs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            jobs
        });
        self.open_jobs(jobs).await
    }

    async fn renew_job_leases(
        &self,
        holder: &str,
        now: SystemTime,
        lease: Duration,
    ) -> Result<u64, GatewayError> {
        let sql = "UPDATE async_jobs SET lease_until_ms = $2 \
                   WHERE status = 'running' AND lease_holder = $1";
        on_pool!(&self.backend, pool => {
            let done = sqlx::query(sql).bind(holder).bind(lease_end(now, lease))
                .execute(pool).await.map_err(StoreError::from)?;
            Ok(done.rows_affected())
        })
    }

    async fn complete_job(
        &self,
        id: &str,
        holder: &str,
        result: &AsyncResult,
        now: SystemTime,
    ) -> Result<bool, GatewayError> {
        let sql = "UPDATE async_jobs SET status = 'completed', result_status = $3, \
                   result_headers = $4, result_body = $5, lease_holder = NULL, \
                   lease_until_ms = NULL, updated_at_ms = $6, completed_at_ms = $6 \
                   WHERE id = $1 AND status = 'running' AND lease_holder = $2";
        let (headers, body) = match self.keyring.get() {
            None => (result.headers.clone(), result.body.clone()),
            Some(_) => {
                let tenant: Option<String> = on_pool!(&self.backend, pool => {
                    sqlx::query_scalar("SELECT tenant FROM async_jobs WHERE id = $1")
                        .bind(id).fetch_optional(pool).await.map_err(StoreError::from)?
                });
                let Some(tenant) = tenant else {
                    return Ok(false);
                };
                let t = TenantId::new(&tenant);
                (
                    self.seal_text(&t, &record(id, "result_headers"), &result.headers)
                        .await?,
                    self.seal_text(&t, &record(id, "result_body"), &result.body)
                        .await?,
                )
            }
        };
        on_pool!(&self.backend, pool => {
            let done = sqlx::query(sql)
                .bind(id).bind(holder)
                .bind(i64::from(result.status)).bind(&headers).bind(&body)
                .bind(ms(now))
                .execute(pool).await.map_err(StoreError::from)?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn unnotified_jobs(&self, limit: u32) -> Result<Vec<AsyncJob>, GatewayError> {
        let sql = AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM async_jobs \
             WHERE status IN ('completed', 'failed') AND notified = 0 \
             ORDER BY completed_at_ms, id LIMIT {limit}"
        ));
        let jobs = on_pool!(&self.backend, pool => {
            let rows = sqlx::query(sql)
                .fetch_all(pool).await.map_err(StoreError::from)?;
            rows.iter().map(job_from_row).collect::<Result<Vec<_>, StoreError>>()?
        });
        self.open_jobs(jobs).await
    }

    async fn mark_notified(&self, id: &str) -> Result<(), GatewayError> {
        on_pool!(&self.backend, pool => {
            sqlx::query("UPDATE async_jobs SET notified = 1 WHERE id = $1").bind(id)
                .execute(pool).await.map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn delete_jobs_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError> {
        let sql = "DELETE FROM async_jobs WHERE status IN ('completed', 'failed', 'cancelled') \
                   AND completed_at_ms < $1";
        on_pool!(&self.backend, pool => {
            let done = sqlx::query(sql).bind(ms(cutoff))
                .execute(pool).await.map_err(StoreError::from)?;
            Ok(done.rows_affected())
        })
    }
}
