//! [`WebhookStore`] for [`SqlStore`]: endpoints, the outbox of deliveries and the attempt log.
//!
//! Claiming is the one statement that differs by backend: PostgreSQL locks the due rows with
//! `FOR UPDATE SKIP LOCKED`, so that dispatchers of several instances take disjoint sets;
//! SQLite has one writer at a time, so the same `UPDATE ... RETURNING` is already exclusive.

use std::time::SystemTime;

use async_trait::async_trait;
use gateway_core::store::{
    AttemptOutcome, DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint,
    WebhookStore, unix_millis,
};
use gateway_core::{GatewayError, TenantId};
use sqlx::AssertSqlSafe;

use crate::connect::SqlStore;
use crate::error::{StoreError, conflict, not_found};
use crate::pool::{Backend, on_pool};
use crate::rows::{RowExt, list_from_json, list_to_json};

const ENDPOINT_COLUMNS: &str = "id, tenant, url, description, events, secret, previous_secret, \
                                previous_secret_until_ms, enabled, created_at_ms, updated_at_ms";
const DELIVERY_COLUMNS: &str = "id, endpoint_id, tenant, event_type, payload, status, attempts, \
                                next_attempt_at_ms, expires_at_ms, last_status_code, last_error, \
                                created_at_ms, updated_at_ms";

fn endpoint_from_row(row: &impl RowExt) -> Result<WebhookEndpoint, StoreError> {
    Ok(WebhookEndpoint {
        id: row.text("id")?,
        tenant: TenantId::new(&row.text("tenant")?),
        url: row.text("url")?,
        description: row.text("description")?,
        events: list_from_json("events", Some(row.text("events")?))?.unwrap_or_default(),
        secret: row.text("secret")?,
        previous_secret: row.opt_text("previous_secret")?,
        previous_secret_until: row.opt_time("previous_secret_until_ms")?,
        enabled: row.flag("enabled")?,
        created_at: row.time("created_at_ms")?,
        updated_at: row.time("updated_at_ms")?,
    })
}

fn delivery_from_row(row: &impl RowExt) -> Result<WebhookDelivery, StoreError> {
    let status = row.text("status")?;
    Ok(WebhookDelivery {
        id: row.text("id")?,
        endpoint_id: row.text("endpoint_id")?,
        tenant: TenantId::new(&row.text("tenant")?),
        event_type: row.text("event_type")?,
        payload: row.text("payload")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("delivery status '{status}'")))?,
        attempts: u32::try_from(row.uint("attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: row.time("next_attempt_at_ms")?,
        expires_at: row.time("expires_at_ms")?,
        last_status_code: row
            .opt_uint("last_status_code")?
            .and_then(|c| u16::try_from(c).ok()),
        last_error: row.opt_text("last_error")?,
        created_at: row.time("created_at_ms")?,
        updated_at: row.time("updated_at_ms")?,
    })
}

fn attempt_from_row(row: &impl RowExt) -> Result<DeliveryAttempt, StoreError> {
    Ok(DeliveryAttempt {
        delivery_id: row.text("delivery_id")?,
        attempt: u32::try_from(row.uint("attempt")?).unwrap_or(u32::MAX),
        at: row.time("at_ms")?,
        status_code: row
            .opt_uint("status_code")?
            .and_then(|c| u16::try_from(c).ok()),
        latency_ms: row.uint("latency_ms")?,
        error: row.opt_text("error")?,
        succeeded: row.flag("succeeded")?,
    })
}

fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create_endpoint(&self, e: &WebhookEndpoint) -> Result<(), GatewayError> {
        let sql = AssertSqlSafe(format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ));
        let result = on_pool!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(&e.id)
                .bind(e.tenant.as_str())
                .bind(&e.url)
                .bind(&e.description)
                .bind(list_to_json(Some(&e.events)))
                .bind(&e.secret)
                .bind(e.previous_secret.as_deref())
                .bind(e.previous_secret_until.map(unix_millis))
                .bind(e.enabled)
                .bind(unix_millis(e.created_at))
                .bind(unix_millis(e.updated_at))
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result.map_err(StoreError::from) {
            Ok(()) => Ok(()),
            Err(err) if err.is_unique_violation() => Err(conflict("webhook endpoint", &e.id)),
            Err(err) => Err(err.into_gateway()),
        }
    }

    async fn get_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, GatewayError> {
        let sql = AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        ));
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await.map_err(StoreError::from)?;
            Ok(row.map(|r| endpoint_from_row(&r)).transpose()?)
        })
    }

    async fn list_endpoints(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<WebhookEndpoint>, GatewayError> {
        let sql = AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
             WHERE ($1 IS NULL OR tenant = $1) ORDER BY id"
        ));
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(sql).bind(tenant.map(TenantId::as_str))
                .fetch_all(pool).await.map_err(StoreError::from)?;
            Ok(rows.iter().map(endpoint_from_row).collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn update_endpoint(&self, e: &WebhookEndpoint) -> Result<(), GatewayError> {
        let sql = "UPDATE webhook_endpoints SET url = $2, description = $3, events = $4, \
                   secret = $5, previous_secret = $6, previous_secret_until_ms = $7, \
                   enabled = $8, updated_at_ms = $9 WHERE id = $1";
        let done = on_pool!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(&e.id)
                .bind(&e.url)
                .bind(&e.description)
                .bind(list_to_json(Some(&e.events)))
                .bind(&e.secret)
                .bind(e.previous_secret.as_deref())
                .bind(e.previous_secret_until.map(unix_millis))
                .bind(e.enabled)
                .bind(unix_millis(e.updated_at))
                .execute(pool).await.map_err(StoreError::from)?
                .rows_affected()
        });
        if done == 0 {
            return Err(not_found("webhook endpoint", &e.id));
        }
        Ok(())
    }

    async fn delete_endpoint(&self, id: &str) -> Result<bool, GatewayError> {
        on_pool!(&self.backend, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::from)?;
            // Explicitly, not only by cascade: SQLite enforces it only with foreign_keys on.
            sqlx::query("DELETE FROM webhook_attempts WHERE delivery_id IN \
                         (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)")
                .bind(id).execute(&mut *tx).await.map_err(StoreError::from)?;
            sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
                .bind(id).execute(&mut *tx).await.map_err(StoreError::from)?;
            let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                .bind(id).execute(&mut *tx).await.map_err(StoreError::from)?;
            tx.commit().await.map_err(StoreError::from)?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn enqueue_deliveries(&self, list: &[WebhookDelivery]) -> Result<u64, GatewayError> {
        if list.is_empty() {
            return Ok(0);
        }
        // Only for endpoints that still exist (one deleted meanwhile gets nothing).
        let sql = format!(
            "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
             WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $2) \
             ON CONFLICT (id) DO NOTHING"
        );
        on_pool!(&self.backend, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::from)?;
            let mut new = 0;
            for d in list {
                new += sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(&d.id)
                    .bind(&d.endpoint_id)
                    .bind(d.tenant.as_str())
                    .bind(&d.event_type)
                    .bind(&d.payload)
                    .bind(d.status.as_str())
                    .bind(i64::from(d.attempts))
                    .bind(unix_millis(d.next_attempt_at))
                    .bind(unix_millis(d.expires_at))
                    .bind(d.last_status_code.map(i64::from))
                    .bind(d.last_error.as_deref())
                    .bind(unix_millis(d.created_at))
                    .bind(unix_millis(d.updated_at))
                    .execute(&mut *tx).await.map_err(StoreError::from)?
                    .rows_affected();
            }
            tx.commit().await.map_err(StoreError::from)?;
            Ok(new)
        })
    }

    async fn claim_deliveries(
        &self,
        now: SystemTime,
        lease_until: SystemTime,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, GatewayError> {
        let lock = match self.backend {
            Backend::Postgres(_) => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite(_) => "",
        };
        // The limit is written into the SQL, not bound: SQLite re-prepares a statement whose
        // LIMIT is a bound parameter every time it is bound again (docs/performance.md).
        let sql = AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET lease_until_ms = $1 WHERE id IN (\
               SELECT id FROM webhook_deliveries WHERE status = 'pending' \
               AND next_attempt_at_ms <= $2 AND (lease_until_ms IS NULL OR lease_until_ms < $2) \
               ORDER BY next_attempt_at_ms LIMIT {limit} {lock}) \
             RETURNING {DELIVERY_COLUMNS}"
        ));
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(sql)
                .bind(unix_millis(lease_until))
                .bind(unix_millis(now))
                .fetch_all(pool).await.map_err(StoreError::from)?;
            let mut claimed = rows.iter().map(delivery_from_row).collect::<Result<Vec<_>, _>>()?;
            claimed.sort_by_key(|d| d.next_attempt_at);
            Ok(claimed)
        })
    }

    async fn next_delivery_due(&self) -> Result<Option<SystemTime>, GatewayError> {
        let sql = "SELECT MIN(CASE WHEN lease_until_ms > next_attempt_at_ms THEN lease_until_ms \
                   ELSE next_attempt_at_ms END) AS due FROM webhook_deliveries \
                   WHERE status = 'pending'";
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql).fetch_one(pool).await.map_err(StoreError::from)?;
            Ok(row.opt_time("due")?)
        })
    }

    async fn record_attempt(
        &self,
        a: &DeliveryAttempt,
        outcome: &AttemptOutcome,
    ) -> Result<(), GatewayError> {
        let (status, next) = match outcome {
            AttemptOutcome::Succeeded => (DeliveryStatus::Succeeded, None),
            AttemptOutcome::Retry(at) => (DeliveryStatus::Pending, Some(unix_millis(*at))),
            AttemptOutcome::Dead => (DeliveryStatus::Dead, None),
        };
        on_pool!(&self.backend, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::from)?;
            sqlx::query("INSERT INTO webhook_attempts (delivery_id, attempt, at_ms, status_code, \
                         latency_ms, error, succeeded) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (delivery_id, attempt) DO NOTHING")
                .bind(&a.delivery_id)
                .bind(i64::from(a.attempt))
                .bind(unix_millis(a.at))
                .bind(a.status_code.map(i64::from))
                .bind(millis(a.latency_ms))
                .bind(a.error.as_deref())
                .bind(a.succeeded)
                .execute(&mut *tx).await.map_err(StoreError::from)?;
            sqlx::query("UPDATE webhook_deliveries SET status = $2, attempts = $3, \
                         next_attempt_at_ms = COALESCE($4, next_attempt_at_ms), lease_until_ms = NULL, \
                         last_status_code = $5, last_error = $6, updated_at_ms = $7 WHERE id = $1")
                .bind(&a.delivery_id)
                .bind(status.as_str())
                .bind(i64::from(a.attempt))
                .bind(next)
                .bind(a.status_code.map(i64::from))
                .bind(a.error.as_deref())
                .bind(unix_millis(a.at))
                .execute(&mut *tx).await.map_err(StoreError::from)?;
            tx.commit().await.map_err(StoreError::from)?;
            Ok(())
        })
    }

    async fn get_delivery(&self, id: &str) -> Result<Option<WebhookDelivery>, GatewayError> {
        let sql = AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1"
        ));
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await.map_err(StoreError::from)?;
            Ok(row.map(|r| delivery_from_row(&r)).transpose()?)
        })
    }

    async fn list_deliveries(
        &self,
        endpoint_id: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, GatewayError> {
        let sql = AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 \
             AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        ));
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(sql).bind(endpoint_id).bind(before).bind(i64::from(limit))
                .fetch_all(pool).await.map_err(StoreError::from)?;
            Ok(rows.iter().map(delivery_from_row).collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn list_attempts(&self, delivery_id: &str) -> Result<Vec<DeliveryAttempt>, GatewayError> {
        let sql = "SELECT delivery_id, attempt, at_ms, status_code, latency_ms, error, succeeded \
                   FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt";
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(sql).bind(delivery_id)
                .fetch_all(pool).await.map_err(StoreError::from)?;
            Ok(rows.iter().map(attempt_from_row).collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn redeliver(
        &self,
        id: &str,
        now: SystemTime,
        expires_at: SystemTime,
    ) -> Result<WebhookDelivery, GatewayError> {
        let sql = AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at_ms = $2, \
             expires_at_ms = $3, lease_until_ms = NULL, updated_at_ms = $2 WHERE id = $1 \
             RETURNING {DELIVERY_COLUMNS}"
        ));
        on_pool!(&self.backend, pool => {
            let row = sqlx::query(sql).bind(id).bind(unix_millis(now)).bind(unix_millis(expires_at))
                .fetch_optional(pool).await.map_err(StoreError::from)?;
            match row {
                Some(r) => Ok(delivery_from_row(&r)?),
                None => Err(not_found("webhook delivery", id)),
            }
        })
    }

    async fn delete_deliveries_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError> {
        let cutoff = unix_millis(cutoff);
        on_pool!(&self.backend, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::from)?;
            sqlx::query("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM \
                         webhook_deliveries WHERE status <> 'pending' AND updated_at_ms < $1)")
                .bind(cutoff).execute(&mut *tx).await.map_err(StoreError::from)?;
            let done = sqlx::query("DELETE FROM webhook_deliveries WHERE status <> 'pending' \
                                    AND updated_at_ms < $1")
                .bind(cutoff).execute(&mut *tx).await.map_err(StoreError::from)?;
            tx.commit().await.map_err(StoreError::from)?;
            Ok(done.rows_affected())
        })
    }
}
