//! Per-minute usage totals (`usage_minutes`): added to in place, so that every flush of every
//! gateway instance writing the same (minute, tenant, subject, model) adds up.

use gateway_core::store::UsageMinute;

use crate::error::StoreError;
use crate::pool::Backend;

/// Adds one minute's totals to the stored ones (`ON CONFLICT ... DO UPDATE`, the same text on
/// SQLite and PostgreSQL). Thirteen binds, so numbered placeholders cost SQLite nothing here.
const UPSERT_SQL: &str = "INSERT INTO usage_minutes (minute_ms, tenant, subject, model, \
     requests, errors, cache_hits, prompt_tokens, completion_tokens, total_tokens, cost_usd, \
     unpriced, guardrail_findings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (tenant, minute_ms, subject, model) DO UPDATE SET \
     requests = usage_minutes.requests + excluded.requests, \
     errors = usage_minutes.errors + excluded.errors, \
     cache_hits = usage_minutes.cache_hits + excluded.cache_hits, \
     prompt_tokens = usage_minutes.prompt_tokens + excluded.prompt_tokens, \
     completion_tokens = usage_minutes.completion_tokens + excluded.completion_tokens, \
     total_tokens = usage_minutes.total_tokens + excluded.total_tokens, \
     cost_usd = usage_minutes.cost_usd + excluded.cost_usd, \
     unpriced = usage_minutes.unpriced + excluded.unpriced, \
     guardrail_findings = usage_minutes.guardrail_findings + excluded.guardrail_findings";

/// Minutes that started before the cutoff (retention). Few rows per minute, so one
/// statement: no chunking as for the per-call records.
const DELETE_SQL: &str = "DELETE FROM usage_minutes WHERE minute_ms < $1";

fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Writes `minutes` in one transaction.
pub(crate) async fn add(backend: &Backend, minutes: &[UsageMinute]) -> Result<(), StoreError> {
    if minutes.is_empty() {
        return Ok(());
    }
    crate::pool::on_pool!(backend, pool => {
        let mut tx = pool.begin().await?;
        for minute in minutes {
            let (key, totals) = (&minute.key, &minute.totals);
            sqlx::query(UPSERT_SQL)
                .bind(key.minute_ms)
                .bind(key.tenant.0.clone())
                .bind(key.subject.clone())
                .bind(&key.model)
                .bind(count(totals.requests))
                .bind(count(totals.errors))
                .bind(count(totals.cache_hits))
                .bind(count(totals.prompt_tokens))
                .bind(count(totals.completion_tokens))
                .bind(count(totals.total_tokens))
                .bind(totals.cost_usd)
                .bind(count(totals.unpriced_requests))
                .bind(count(totals.guardrail_findings))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    })
}

/// Deletes the minutes that started before `cutoff_ms`; returns how many went.
pub(crate) async fn delete_before(backend: &Backend, cutoff_ms: i64) -> Result<u64, StoreError> {
    crate::pool::on_pool!(backend, pool => {
        Ok(sqlx::query(DELETE_SQL)
            .bind(cutoff_ms)
            .execute(pool)
            .await?
            .rows_affected())
    })
}
