//! The line-level half of [`gateway_core::store::BatchStore`] for [`SqlStore`]: storing a
//! validated input's lines, leasing them (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
//! that instances leasing at once take disjoint lines without waiting), renewing leases, and
//! recording results only while the lease is still held (fencing).

use std::time::{Duration, SystemTime};

use gateway_core::store::{FinishedItem, ItemOutcome, LeasedItem, NewItem};
use gateway_core::{GatewayError, TenantId};
use sqlx::AssertSqlSafe;

use crate::batches::{lease_end, ms};
use crate::connect::SqlStore;
use crate::error::StoreError;
use crate::pool::{Backend, on_pool};
use crate::rows::RowExt;

/// Lines per multi-row insert (4 binds each: far under both databases' bind limits).
const ROWS_PER_INSERT: usize = 250;

fn insert_sql(rows: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let n = r * 4;
            format!(
                "(${}, ${}, ${}, ${}, 'pending')",
                n + 1,
                n + 2,
                n + 3,
                n + 4
            )
        })
        .collect();
    format!(
        "INSERT INTO batch_items (batch_id, line, custom_id, body, state) VALUES {}",
        tuples.join(", ")
    )
}

/// The authenticated record id of a line's sealed column.
fn record(batch_id: &str, line: u64, column: &str) -> String {
    format!("batch_items/{batch_id}/{line}/{column}")
}

/// The tenant of batch `id`, when content is sealed (lines carry no tenant of their own);
/// `None` when encryption is off or the batch is gone.
async fn sealing_tenant(store: &SqlStore, id: &str) -> Result<Option<TenantId>, StoreError> {
    if store.keyring().is_none() {
        return Ok(None);
    }
    let tenant: Option<String> = on_pool!(&store.backend, pool => {
        sqlx::query_scalar("SELECT tenant FROM batches WHERE id = $1")
            .bind(id).fetch_optional(pool).await?
    });
    Ok(tenant.map(|t| TenantId::new(&t)))
}

fn not_holder(id: &str) -> GatewayError {
    GatewayError::Unavailable(format!(
        "batch {id} is no longer leased by this instance; another took it over"
    ))
}

pub(crate) async fn add_items(
    store: &SqlStore,
    id: &str,
    holder: &str,
    items: &[NewItem],
    replace: bool,
) -> Result<(), GatewayError> {
    let mut bodies = Vec::with_capacity(items.len());
    let tenant = sealing_tenant(store, id).await?;
    for item in items {
        bodies.push(match &tenant {
            Some(t) => {
                store
                    .seal_text(t, &record(id, item.line, "body"), &item.body)
                    .await?
            }
            None => item.body.clone(),
        });
    }
    on_pool!(&store.backend, pool => {
        let mut tx = pool.begin().await.map_err(StoreError::from)?;
        let held = sqlx::query("SELECT id FROM batches WHERE id = $1 AND lease_holder = $2")
            .bind(id).bind(holder)
            .fetch_optional(&mut *tx).await.map_err(StoreError::from)?;
        if held.is_none() {
            return Err(not_holder(id));
        }
        if replace {
            sqlx::query("DELETE FROM batch_items WHERE batch_id = $1")
                .bind(id).execute(&mut *tx).await.map_err(StoreError::from)?;
        }
        for (chunk, bodies) in items.chunks(ROWS_PER_INSERT).zip(bodies.chunks(ROWS_PER_INSERT)) {
            let sql = AssertSqlSafe(insert_sql(chunk.len()));
            let mut q = sqlx::query(sql);
            for (item, body) in chunk.iter().zip(bodies) {
                q = q
                    .bind(id)
                    .bind(i64::try_from(item.line).unwrap_or(i64::MAX))
                    .bind(&item.custom_id)
                    .bind(body);
            }
            q.execute(&mut *tx).await.map_err(StoreError::from)?;
        }
        tx.commit().await.map_err(StoreError::from)?;
    });
    Ok(())
}

pub(crate) async fn lease_items(
    store: &SqlStore,
    holder: &str,
    limit: u32,
    now: SystemTime,
    lease: Duration,
) -> Result<Vec<LeasedItem>, GatewayError> {
    // A line whose lease expired after it was already taken over once fails: it was in
    // flight at two crashes.
    let give_up = "UPDATE batch_items SET state = 'failed', result = NULL, lease_holder = NULL, \
                   lease_until_ms = NULL \
                   WHERE state = 'leased' AND lease_until_ms < $1 AND retried = 1";
    let lock = match store.backend {
        Backend::Postgres(_) => " FOR UPDATE OF c SKIP LOCKED",
        Backend::Sqlite(_) => "",
    };
    // `retried` and `attempts` read the row as it was before this update.
    // The limit is written into the SQL, not bound: SQLite re-prepares a statement whose
    // LIMIT is a bound parameter every time it is bound again (docs/performance.md).
    let sql = AssertSqlSafe(format!(
        "UPDATE batch_items SET state = 'leased', attempts = attempts + 1, \
         retried = CASE WHEN state = 'leased' THEN 1 ELSE retried END, \
         lease_holder = $1, lease_until_ms = $2 \
         FROM (SELECT c.batch_id AS p_batch, c.line AS p_line FROM batch_items c \
               JOIN batches b ON b.id = c.batch_id \
               WHERE b.status = 'in_progress' AND ((c.state = 'pending' AND c.not_before_ms <= $3) \
                 OR (c.state = 'leased' AND c.lease_until_ms < $3)) \
               ORDER BY c.batch_id, c.line LIMIT {limit}{lock}) AS picked \
         WHERE batch_id = picked.p_batch AND line = picked.p_line \
         RETURNING batch_id, line, custom_id, body, attempts, retried"
    ));
    let mut items = on_pool!(&store.backend, pool => {
        sqlx::query(give_up).bind(ms(now))
            .execute(pool).await.map_err(StoreError::from)?;
        let rows = sqlx::query(sql)
            .bind(holder)
            .bind(lease_end(now, lease))
            .bind(ms(now))
            .fetch_all(pool).await.map_err(StoreError::from)?;
        let mut items = rows.iter().map(|r| {
            Ok(LeasedItem {
                batch_id: r.text("batch_id")?,
                line: r.uint("line")?,
                custom_id: r.text("custom_id")?,
                body: r.text("body")?,
                attempts: u32::try_from(r.uint("attempts")?).unwrap_or(u32::MAX),
                retried: r.int("retried")? != 0,
            })
        }).collect::<Result<Vec<_>, StoreError>>()?;
        // RETURNING has no order: run lines in input order.
        items.sort_by(|a, b| (&a.batch_id, a.line).cmp(&(&b.batch_id, b.line)));
        items
    });
    if store.keyring().is_some() {
        let mut tenants: std::collections::HashMap<String, Option<TenantId>> = Default::default();
        for item in &mut items {
            if !tenants.contains_key(&item.batch_id) {
                let t = sealing_tenant(store, &item.batch_id).await?;
                tenants.insert(item.batch_id.clone(), t);
            }
            if let Some(Some(t)) = tenants.get(&item.batch_id) {
                let body = std::mem::take(&mut item.body);
                item.body = store
                    .open_text(t, &record(&item.batch_id, item.line, "body"), body)
                    .await?;
            }
        }
    }
    Ok(items)
}

pub(crate) async fn renew_leases(
    store: &SqlStore,
    holder: &str,
    now: SystemTime,
    lease: Duration,
) -> Result<u64, GatewayError> {
    let until = lease_end(now, lease);
    on_pool!(&store.backend, pool => {
        let items = sqlx::query("UPDATE batch_items SET lease_until_ms = $2 \
                                 WHERE state = 'leased' AND lease_holder = $1")
            .bind(holder).bind(until)
            .execute(pool).await.map_err(StoreError::from)?.rows_affected();
        sqlx::query("UPDATE batches SET lease_until_ms = $2 WHERE lease_holder = $1")
            .bind(holder).bind(until)
            .execute(pool).await.map_err(StoreError::from)?;
        Ok(items)
    })
}

pub(crate) async fn complete_item(
    store: &SqlStore,
    batch_id: &str,
    line: u64,
    holder: &str,
    outcome: ItemOutcome,
    result: &str,
) -> Result<bool, GatewayError> {
    let state = match outcome {
        ItemOutcome::Done => "done",
        ItemOutcome::Failed => "failed",
    };
    let sql = "UPDATE batch_items SET state = $4, result = $5, lease_holder = NULL, \
               lease_until_ms = NULL \
               WHERE batch_id = $1 AND line = $2 AND state = 'leased' AND lease_holder = $3";
    let result = match sealing_tenant(store, batch_id).await? {
        Some(t) => {
            store
                .seal_text(&t, &record(batch_id, line, "result"), result)
                .await?
        }
        None => result.to_owned(),
    };
    on_pool!(&store.backend, pool => {
        let done = sqlx::query(sql)
            .bind(batch_id).bind(i64::try_from(line).unwrap_or(i64::MAX)).bind(holder)
            .bind(state).bind(&result)
            .execute(pool).await.map_err(StoreError::from)?;
        Ok(done.rows_affected() > 0)
    })
}

pub(crate) async fn defer_item(
    store: &SqlStore,
    batch_id: &str,
    line: u64,
    holder: &str,
    not_before: SystemTime,
) -> Result<bool, GatewayError> {
    let sql = "UPDATE batch_items SET state = 'pending', attempts = attempts - 1, \
               not_before_ms = $4, lease_holder = NULL, lease_until_ms = NULL \
               WHERE batch_id = $1 AND line = $2 AND state = 'leased' AND lease_holder = $3";
    on_pool!(&store.backend, pool => {
        let done = sqlx::query(sql)
            .bind(batch_id).bind(i64::try_from(line).unwrap_or(i64::MAX)).bind(holder)
            .bind(ms(not_before))
            .execute(pool).await.map_err(StoreError::from)?;
        Ok(done.rows_affected() > 0)
    })
}

pub(crate) async fn finished_items(
    store: &SqlStore,
    id: &str,
    after_line: u64,
    limit: u32,
) -> Result<Vec<FinishedItem>, GatewayError> {
    let sql = "SELECT line, custom_id, state, result, retried FROM batch_items \
               WHERE batch_id = $1 AND line > $2 AND state IN ('done', 'failed') \
               ORDER BY line LIMIT $3";
    let mut items = on_pool!(&store.backend, pool => {
        let rows = sqlx::query(sql)
            .bind(id).bind(i64::try_from(after_line).unwrap_or(i64::MAX)).bind(i64::from(limit))
            .fetch_all(pool).await.map_err(StoreError::from)?;
        rows.iter().map(|r| {
            Ok(FinishedItem {
                line: r.uint("line")?,
                custom_id: r.text("custom_id")?,
                outcome: if r.text("state")? == "done" { ItemOutcome::Done } else { ItemOutcome::Failed },
                result: r.opt_text("result")?,
                retried: r.int("retried")? != 0,
            })
        }).collect::<Result<Vec<_>, StoreError>>()?
    });
    if let Some(t) = sealing_tenant(store, id).await? {
        for item in &mut items {
            let result = item.result.take();
            item.result = store
                .open_opt_text(&t, &record(id, item.line, "result"), result)
                .await?;
        }
    }
    Ok(items)
}
