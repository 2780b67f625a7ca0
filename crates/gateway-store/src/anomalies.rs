//! [`AnomalyStore`] for [`SqlStore`]: anomaly-detection baselines and throttles (migration
//! 0012). The SQL is the same on both backends.

use async_trait::async_trait;
use gateway_core::GatewayError;
use gateway_core::store::{AnomalyStore, AnomalyThrottle, StoredBaseline};

use crate::connect::SqlStore;
use crate::error::StoreError;
use crate::pool::on_pool;
use crate::rows::RowExt;

fn secs(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn throttle_from_row(row: &impl RowExt) -> Result<AnomalyThrottle, StoreError> {
    Ok(AnomalyThrottle {
        key_id: row.text("key_id")?,
        previous_rpm: row.opt_uint("previous_rpm")?,
        throttled_rpm: row.uint("throttled_rpm")?,
        until: row.uint("until")?,
    })
}

#[async_trait]
impl AnomalyStore for SqlStore {
    async fn save_anomaly_baselines(&self, rows: &[StoredBaseline]) -> Result<(), GatewayError> {
        if rows.is_empty() {
            return Ok(());
        }
        on_pool!(&self.backend, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::from)?;
            for r in rows {
                sqlx::query(
                    "INSERT INTO anomaly_baselines (kind, id, tenant, state, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, id) DO UPDATE SET \
                     tenant = excluded.tenant, state = excluded.state, \
                     updated_at = excluded.updated_at",
                )
                .bind(&r.kind)
                .bind(&r.id)
                .bind(r.tenant.as_deref())
                .bind(&r.state)
                .bind(secs(r.updated_at))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            }
            tx.commit().await.map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn load_anomaly_baselines(
        &self,
        limit: usize,
    ) -> Result<Vec<StoredBaseline>, GatewayError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(
                "SELECT kind, id, tenant, state, updated_at FROM anomaly_baselines \
                 ORDER BY updated_at DESC, kind, id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from)?;
            rows.iter()
                .map(|row| -> Result<StoredBaseline, GatewayError> {
                    Ok(StoredBaseline {
                        kind: row.text("kind")?,
                        id: row.text("id")?,
                        tenant: row.opt_text("tenant")?,
                        state: row.text("state")?,
                        updated_at: row.uint("updated_at")?,
                    })
                })
                .collect()
        })
    }

    async fn prune_anomaly_baselines(&self, before: u64) -> Result<u64, GatewayError> {
        on_pool!(&self.backend, pool => {
            Ok(sqlx::query("DELETE FROM anomaly_baselines WHERE updated_at < $1")
                .bind(secs(before))
                .execute(pool)
                .await
                .map_err(StoreError::from)?
                .rows_affected())
        })
    }

    async fn put_anomaly_throttle(&self, t: &AnomalyThrottle) -> Result<(), GatewayError> {
        on_pool!(&self.backend, pool => {
            sqlx::query(
                "INSERT INTO anomaly_throttles (key_id, previous_rpm, throttled_rpm, until) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key_id) DO UPDATE SET \
                 until = CASE WHEN excluded.until > anomaly_throttles.until \
                 THEN excluded.until ELSE anomaly_throttles.until END",
            )
            .bind(&t.key_id)
            .bind(t.previous_rpm.map(secs))
            .bind(secs(t.throttled_rpm))
            .bind(secs(t.until))
            .execute(pool)
            .await
            .map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn due_anomaly_throttles(&self, now: u64) -> Result<Vec<AnomalyThrottle>, GatewayError> {
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(
                "SELECT key_id, previous_rpm, throttled_rpm, until FROM anomaly_throttles \
                 WHERE until <= $1 ORDER BY until, key_id LIMIT 1000",
            )
            .bind(secs(now))
            .fetch_all(pool)
            .await
            .map_err(StoreError::from)?;
            rows.iter()
                .map(|r| throttle_from_row(r).map_err(GatewayError::from))
                .collect()
        })
    }

    async fn delete_anomaly_throttle(&self, key_id: &str) -> Result<bool, GatewayError> {
        on_pool!(&self.backend, pool => {
            Ok(sqlx::query("DELETE FROM anomaly_throttles WHERE key_id = $1")
                .bind(key_id)
                .execute(pool)
                .await
                .map_err(StoreError::from)?
                .rows_affected() == 1)
        })
    }
}
