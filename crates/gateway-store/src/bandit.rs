//! [`BanditStore`] for [`SqlStore`]: the routing bandit's arm counts (migration 0016). A
//! batch of deltas is added in one transaction, each row by an upsert that adds to what is
//! there, so instances flushing at the same time both count. Rows are written in the order
//! the batch lists them (the bandit lists them in one fixed order), so two instances never
//! lock the same rows in opposite orders.

use std::time::SystemTime;

use async_trait::async_trait;
use gateway_core::GatewayError;
use gateway_core::store::{ArmCounts, BanditStore, unix_millis};

use crate::connect::SqlStore;
use crate::error::StoreError;
use crate::pool::on_pool;
use crate::rows::RowExt;

const ADD: &str = "INSERT INTO routing_bandit_arms \
     (rule, task, candidate, successes, failures, version, updated_at_ms) \
     VALUES ($1, $2, $3, $4, $5, 1, $6) \
     ON CONFLICT (rule, task, candidate) DO UPDATE SET \
     successes = routing_bandit_arms.successes + excluded.successes, \
     failures = routing_bandit_arms.failures + excluded.failures, \
     version = routing_bandit_arms.version + 1, \
     updated_at_ms = excluded.updated_at_ms";

const ALL: &str = "SELECT rule, task, candidate, successes, failures, version, updated_at_ms \
     FROM routing_bandit_arms ORDER BY rule, task, candidate LIMIT 100000";

fn finite(x: f64) -> f64 {
    if x.is_finite() { x.max(0.0) } else { 0.0 }
}

#[async_trait]
impl BanditStore for SqlStore {
    async fn add_arm_counts(&self, deltas: &[ArmCounts]) -> Result<(), GatewayError> {
        if deltas.is_empty() {
            return Ok(());
        }
        let now = unix_millis(SystemTime::now());
        on_pool!(&self.backend, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::from)?;
            for d in deltas {
                sqlx::query(ADD)
                    .bind(&d.rule)
                    .bind(&d.task)
                    .bind(&d.candidate)
                    .bind(finite(d.successes))
                    .bind(finite(d.failures))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
            }
            tx.commit().await.map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn arm_counts(&self) -> Result<Vec<ArmCounts>, GatewayError> {
        // The LIMIT bounds memory: far more arms than any configuration has (rules x 8 task
        // types x at most 16 candidates).
        on_pool!(&self.backend, pool => {
            let rows = sqlx::query(ALL)
                .fetch_all(pool)
                .await
                .map_err(StoreError::from)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(ArmCounts {
                    rule: r.text("rule")?,
                    task: r.text("task")?,
                    candidate: r.text("candidate")?,
                    successes: r.float("successes")?,
                    failures: r.float("failures")?,
                    version: r.int("version")?,
                    updated_at: r.time("updated_at_ms")?,
                });
            }
            Ok(out)
        })
    }
}
