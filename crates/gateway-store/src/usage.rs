//! [`UsageStore`] for [`SqlStore`]: batched inserts and grouped aggregates (over the per-call
//! records and the per-minute totals of [`usage_minutes`] together).

use async_trait::async_trait;
use gateway_core::phases::account::UsageRecord;
use gateway_core::store::{
    UsageAggregate, UsageDimension, UsageMinute, UsageQuery, UsageStore, UsageTotals,
    from_unix_millis, unix_millis,
};
use gateway_core::{GatewayError, TenantId};
use std::sync::LazyLock;
use std::time::SystemTime;

use sqlx::AssertSqlSafe;

use crate::connect::SqlStore;
use crate::error::StoreError;
use crate::pool::on_pool;
use crate::rows::RowExt;
use crate::usage_minutes;

const INSERT: &str = "INSERT INTO usage_records (request_id, at_ms, tenant, subject, endpoint, model, provider, \
                      upstream_model, prompt_tokens, completion_tokens, total_tokens, cached_tokens, \
                      reasoning_tokens, cost_usd, status, latency_ms, ttft_ms, stream, cache_hit, cancelled, batch_id, \
                      quality_score, quality_flags, task, route_reason, guardrail_findings, guardrail_kinds) ";

/// Rows per multi-row `INSERT`, largest first. A batch is cut greedily into these sizes: one
/// statement (one round trip to the driver) per chunk instead of per record, and only five
/// statement texts ever, so each is prepared once and then served from the driver's
/// statement cache. 256 rows × 27 binds stays far under both databases' bind limits
/// (SQLite 32,766, PostgreSQL 65,535).
///
/// Round trips, not rows, are what limits the writer when the serving thread is saturated:
/// each statement's answer wakes the writer task, which then waits its turn behind every
/// busy connection. With 64-row statements a bench at 50 k cache hits a second dropped a
/// quarter of its records while the SQLite thread sat 92 % idle.
const ROWS_PER_INSERT: [usize; 5] = [256, 64, 16, 4, 1];

const COLUMNS: usize = 27;

/// The `INSERT` text for `rows` rows, with PostgreSQL's numbered placeholders (`($1, ...,
/// $20), ($21, ...`) or SQLite's positional `?` (which it binds without looking each
/// parameter up by name, a cost that grows with the square of the binds).
fn insert_sql(rows: usize, numbered: bool) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|row| {
            let binds: Vec<String> = (1..=COLUMNS)
                .map(|column| {
                    if numbered {
                        format!("${}", row * COLUMNS + column)
                    } else {
                        "?".to_owned()
                    }
                })
                .collect();
            format!("({})", binds.join(", "))
        })
        .collect();
    format!("{INSERT}VALUES {}", tuples.join(", "))
}

/// The statement texts for [`ROWS_PER_INSERT`], written once per placeholder style.
static INSERT_SQL_NUMBERED: LazyLock<[String; 5]> =
    LazyLock::new(|| ROWS_PER_INSERT.map(|rows| insert_sql(rows, true)));
static INSERT_SQL_POSITIONAL: LazyLock<[String; 5]> =
    LazyLock::new(|| ROWS_PER_INSERT.map(|rows| insert_sql(rows, false)));

/// The next chunk of `records` (the largest of [`ROWS_PER_INSERT`] that fits), its
/// statement text, and the rest.
fn next_chunk(
    records: &[UsageRecord],
    numbered: bool,
) -> (&[UsageRecord], &'static str, &[UsageRecord]) {
    let index = ROWS_PER_INSERT
        .iter()
        .position(|&rows| rows <= records.len())
        .unwrap_or(ROWS_PER_INSERT.len() - 1);
    let size = ROWS_PER_INSERT
        .get(index)
        .map_or(records.len(), |&rows| rows.min(records.len()));
    let texts: &'static [String; 5] = if numbered {
        &INSERT_SQL_NUMBERED
    } else {
        &INSERT_SQL_POSITIONAL
    };
    let sql = texts.get(index).map_or("", String::as_str);
    let (chunk, rest) = records.split_at(size);
    (chunk, sql, rest)
}

fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The SQL expression of a dimension and its output column. Fixed strings only: no caller
/// text reaches the SQL.
fn dimension_sql(d: UsageDimension) -> (&'static str, &'static str) {
    match d {
        UsageDimension::Tenant => ("tenant", "g_tenant"),
        UsageDimension::Subject => ("subject", "g_subject"),
        UsageDimension::Model => ("model", "g_model"),
        // Integer division on both backends: the UTC midnight starting the day, in ms.
        UsageDimension::Day => ("(at_ms / 86400000) * 86400000", "g_day"),
        UsageDimension::Batch => ("batch_id", "g_batch"),
        UsageDimension::Task => ("task", "g_task"),
    }
}

/// The per-call records as rows of the shape of `usage_minutes`, one call each.
const RECORDS_AS_TOTALS: &str = "SELECT tenant, subject, model, at_ms, 1 AS requests, \
     CASE WHEN status >= 400 THEN 1 ELSE 0 END AS errors, \
     CASE WHEN cache_hit THEN 1 ELSE 0 END AS cache_hits, \
     prompt_tokens, completion_tokens, total_tokens, cost_usd, \
     CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END AS unpriced, batch_id, task, \
     CASE WHEN quality_score IS NULL THEN 0 ELSE 1 END AS scored, quality_score, guardrail_findings, \
     CASE WHEN judge_score IS NULL THEN 0 ELSE 1 END AS judged, judge_score FROM usage_records";

/// The per-minute totals under the same column names (a minute row is dated by its start).
const MINUTES_AS_TOTALS: &str = "SELECT tenant, subject, model, minute_ms AS at_ms, requests, \
     errors, cache_hits, prompt_tokens, completion_tokens, total_tokens, cost_usd, unpriced, \
     CAST(NULL AS TEXT) AS batch_id, CAST(NULL AS TEXT) AS task, 0 AS scored, \
     CAST(NULL AS DOUBLE PRECISION) AS quality_score, guardrail_findings, 0 AS judged, \
     CAST(NULL AS DOUBLE PRECISION) AS judge_score FROM usage_minutes";

/// Builds the aggregate query over per-call records and per-minute totals together; returns
/// the SQL and the text and integer binds in order. The filters are applied inside each half
/// (so that each uses its table's indexes), sharing the numbered binds.
fn aggregate_sql(q: &UsageQuery) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    // (column in usage_records, column in usage_minutes, operator, bind number)
    let mut filters: Vec<(&str, &str, &str, usize)> = Vec::new();
    let mut push = |records: &'static str, minutes: &'static str, op: &'static str, bind| {
        binds.push(bind);
        filters.push((records, minutes, op, binds.len()));
    };
    if let Some(t) = &q.tenant {
        push("tenant", "tenant", "=", Bind::Text(t.as_str().to_owned()));
    }
    if let Some(s) = &q.subject {
        push("subject", "subject", "=", Bind::Text(s.clone()));
    }
    if let Some(m) = &q.model {
        push("model", "model", "=", Bind::Text(m.clone()));
    }
    if let Some(from) = q.from {
        push("at_ms", "minute_ms", ">=", Bind::Int(unix_millis(from)));
    }
    if let Some(until) = q.until {
        push("at_ms", "minute_ms", "<", Bind::Int(unix_millis(until)));
    }
    let where_clause = |minutes: bool| {
        if filters.is_empty() {
            return String::new();
        }
        let conditions: Vec<String> = filters
            .iter()
            .map(|(records, in_minutes, op, n)| {
                format!("{} {op} ${n}", if minutes { in_minutes } else { records })
            })
            .collect();
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let mut dims: Vec<UsageDimension> = Vec::new();
    for d in &q.group_by {
        if !dims.contains(d) {
            dims.push(*d);
        }
    }
    let select_dims: String = dims
        .iter()
        .map(|d| dimension_sql(*d))
        .map(|(e, c)| format!("{e} AS {c}, "))
        .collect();
    let group_cols: Vec<&str> = dims.iter().map(|d| dimension_sql(*d).1).collect();
    let (group, order) = if group_cols.is_empty() {
        (String::new(), String::new())
    } else {
        let cols = group_cols.join(", ");
        (format!("GROUP BY {cols}"), format!("ORDER BY {cols}"))
    };
    let sql = format!(
        "SELECT {select_dims}\
         CAST(COALESCE(SUM(requests), 0) AS BIGINT) AS requests, \
         CAST(COALESCE(SUM(errors), 0) AS BIGINT) AS errors, \
         CAST(COALESCE(SUM(cache_hits), 0) AS BIGINT) AS cache_hits, \
         CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
         CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens, \
         CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT) AS total_tokens, \
         CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) AS cost_usd, \
         CAST(COALESCE(SUM(unpriced), 0) AS BIGINT) AS unpriced, \
         CAST(COALESCE(SUM(guardrail_findings), 0) AS BIGINT) AS guardrail_findings, \
         CAST(COALESCE(SUM(scored), 0) AS BIGINT) AS scored, \
         CAST(AVG(quality_score) AS DOUBLE PRECISION) AS mean_quality, \
         CAST(COALESCE(SUM(judged), 0) AS BIGINT) AS judged, \
         CAST(AVG(judge_score) AS DOUBLE PRECISION) AS mean_judge_score \
         FROM ({RECORDS_AS_TOTALS}{} UNION ALL {MINUTES_AS_TOTALS}{}) AS usage_rows {group} {order}",
        where_clause(false),
        where_clause(true),
    );
    (sql, binds)
}

enum Bind {
    Text(String),
    Int(i64),
}

fn aggregate_from_row(
    row: &impl RowExt,
    group_by: &[UsageDimension],
) -> Result<UsageAggregate, StoreError> {
    let has = |d| group_by.contains(&d);
    Ok(UsageAggregate {
        tenant: if has(UsageDimension::Tenant) {
            Some(TenantId::new(&row.text("g_tenant")?))
        } else {
            None
        },
        subject: if has(UsageDimension::Subject) {
            Some(row.text("g_subject")?)
        } else {
            None
        },
        model: if has(UsageDimension::Model) {
            Some(row.text("g_model")?)
        } else {
            None
        },
        day: if has(UsageDimension::Day) {
            Some(from_unix_millis(row.int("g_day")?))
        } else {
            None
        },
        batch: if has(UsageDimension::Batch) {
            row.opt_text("g_batch")?
        } else {
            None
        },
        task: if has(UsageDimension::Task) {
            row.opt_text("g_task")?
        } else {
            None
        },
        scored_requests: row.uint("scored")?,
        mean_quality: row.opt_float("mean_quality")?,
        judged_requests: row.uint("judged")?,
        mean_judge_score: row.opt_float("mean_judge_score")?,
        totals: UsageTotals {
            requests: row.uint("requests")?,
            errors: row.uint("errors")?,
            cache_hits: row.uint("cache_hits")?,
            prompt_tokens: row.uint("prompt_tokens")?,
            completion_tokens: row.uint("completion_tokens")?,
            total_tokens: row.uint("total_tokens")?,
            cost_usd: row.float("cost_usd")?,
            unpriced_requests: row.uint("unpriced")?,
            guardrail_findings: row.uint("guardrail_findings")?,
        },
    })
}

#[async_trait]
impl UsageStore for SqlStore {
    async fn insert_usage(&self, records: &[UsageRecord]) -> Result<(), GatewayError> {
        if records.is_empty() {
            return Ok(());
        }
        let numbered = matches!(self.backend, crate::pool::Backend::Postgres(_));
        on_pool!(&self.backend, pool => {
            let statement = |chunk: &[UsageRecord], sql: &'static str| {
                let mut insert = sqlx::query(sql);
                for r in chunk {
                    let usage = r.usage.as_ref();
                    // Shared strings are bound by handle: SQLite's driver takes an
                    // `Arc<str>` as it is, where a `&str` is copied into a new `String`.
                    insert = insert
                        .bind(r.request_id.clone())
                        .bind(unix_millis(r.at))
                        .bind(r.tenant.0.clone())
                        .bind(r.subject.clone())
                        .bind(r.endpoint)
                        .bind(&r.model)
                        .bind(r.provider.clone())
                        .bind(r.upstream_model.clone())
                        .bind(usage.map(|u| count(u.prompt_tokens)))
                        .bind(usage.map(|u| count(u.completion_tokens)))
                        .bind(usage.map(|u| count(u.total_tokens)))
                        .bind(usage.map(|u| count(u.cached_tokens())))
                        .bind(usage.map(|u| count(u.reasoning_tokens())))
                        .bind(r.cost_usd)
                        .bind(i64::from(r.status))
                        .bind(millis(r.latency))
                        .bind(r.time_to_first_token.map(millis))
                        .bind(r.stream)
                        .bind(r.cache_hit)
                        .bind(r.cancelled)
                        .bind(r.batch_id.clone())
                        .bind(r.quality.as_ref().map(|q| (f64::from(q.score) * 1e4).round() / 1e4))
                        .bind(r.quality.as_ref().map(|q| q.flags_text()))
                        .bind(r.task.map(|t| t.as_str()))
                        .bind(r.route_reason.clone())
                        .bind(i64::from(r.guardrail_findings.count))
                        .bind(r.guardrail_findings.kinds.to_text());
                }
                insert
            };
            let (chunk, sql, mut rest) = next_chunk(records, numbered);
            if rest.is_empty() {
                // One statement is atomic on its own: no BEGIN and COMMIT round trips.
                statement(chunk, sql).execute(pool).await.map_err(StoreError::from)?;
                return Ok(());
            }
            let mut tx = pool.begin().await.map_err(StoreError::from)?;
            statement(chunk, sql).execute(&mut *tx).await.map_err(StoreError::from)?;
            while !rest.is_empty() {
                let (chunk, sql, tail) = next_chunk(rest, numbered);
                rest = tail;
                statement(chunk, sql).execute(&mut *tx).await.map_err(StoreError::from)?;
            }
            tx.commit().await.map_err(StoreError::from)?;
            Ok(())
        })
    }

    async fn query_usage(&self, q: &UsageQuery) -> Result<Vec<UsageAggregate>, GatewayError> {
        let (sql, binds) = aggregate_sql(q);
        on_pool!(&self.backend, pool => {
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for b in binds {
                query = match b {
                    Bind::Text(s) => query.bind(s),
                    Bind::Int(i) => query.bind(i),
                };
            }
            let rows = query.fetch_all(pool).await.map_err(StoreError::from)?;
            let out = rows.iter().map(|r| aggregate_from_row(r, &q.group_by)).collect::<Result<Vec<_>, _>>()?;
            // No matching rows and no grouping: SQL still yields one row of zeros; keep it.
            Ok(out)
        })
    }

    async fn add_usage_minutes(&self, minutes: &[UsageMinute]) -> Result<(), GatewayError> {
        Ok(usage_minutes::add(&self.backend, minutes).await?)
    }

    async fn set_judge_score(
        &self,
        tenant: &TenantId,
        request_id: &str,
        score: f64,
    ) -> Result<bool, GatewayError> {
        let score = (score.clamp(0.0, 1.0) * 1e4).round() / 1e4;
        on_pool!(&self.backend, pool => {
            let done = sqlx::query(
                "UPDATE usage_records SET judge_score = $1 WHERE tenant = $2 AND request_id = $3",
            )
            .bind(score)
            .bind(tenant.0.clone())
            .bind(request_id)
            .execute(pool)
            .await
            .map_err(StoreError::from)?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn delete_usage_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError> {
        let cutoff = unix_millis(cutoff);
        let deleted = self
            .backend
            .delete_in_chunks(DELETE_CHUNK_SQL, cutoff, DELETE_CHUNK_ROWS)
            .await?;
        // Feedback on calls goes with their records.
        let feedback = self
            .backend
            .delete_in_chunks(crate::feedback::DELETE_CHUNK, cutoff, DELETE_CHUNK_ROWS)
            .await?;
        Ok(deleted + feedback + usage_minutes::delete_before(&self.backend, cutoff).await?)
    }
}

/// Rows per retention `DELETE`.
const DELETE_CHUNK_ROWS: i64 = 5_000;

/// One chunk of expired rows, oldest first (`usage_records_at` finds them).
const DELETE_CHUNK_SQL: &str = "DELETE FROM usage_records WHERE id IN \
     (SELECT id FROM usage_records WHERE at_ms < $1 ORDER BY at_ms LIMIT $2)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_sql_numbers_its_binds_and_never_embeds_values() {
        let q = UsageQuery {
            tenant: Some(TenantId::new("t'; DROP TABLE x; --")),
            model: Some("m".into()),
            group_by: vec![
                UsageDimension::Model,
                UsageDimension::Model,
                UsageDimension::Day,
            ],
            ..UsageQuery::default()
        };
        let (sql, binds) = aggregate_sql(&q);
        assert!(sql.contains("tenant = $1 AND model = $2"), "{sql}");
        assert_eq!(
            sql.matches("WHERE tenant = $1 AND model = $2").count(),
            2,
            "{sql}"
        );
        assert!(!sql.contains("DROP"), "{sql}");
        assert!(sql.contains("GROUP BY g_model, g_day"), "{sql}");
        assert_eq!(binds.len(), 2);
    }

    #[test]
    fn batches_are_cut_into_the_five_statement_sizes() {
        let record = UsageRecord {
            request_id: "r".into(),
            at: std::time::SystemTime::UNIX_EPOCH,
            tenant: TenantId::new("t"),
            subject: "s".into(),
            endpoint: "chat.completions",
            model: "m".into(),
            provider: None,
            upstream_model: None,
            usage: None,
            cost_usd: None,
            status: 200,
            latency: std::time::Duration::ZERO,
            time_to_first_token: None,
            stream: false,
            cache_hit: false,
            saved_cost_usd: None,
            upstream_latency: None,
            cancelled: false,
            batch_id: None,
            quality: None,
            task: None,
            route_reason: None,
            guardrail_findings: Default::default(),
        };
        let sizes = |n: usize| {
            let records = vec![record.clone(); n];
            let mut rest = records.as_slice();
            let mut out = Vec::new();
            while !rest.is_empty() {
                let (chunk, sql, tail) = next_chunk(rest, true);
                out.push(chunk.len());
                assert_eq!(sql.matches('(').count(), chunk.len() + 1, "{sql}");
                assert!(
                    sql.ends_with(&format!("${})", chunk.len() * COLUMNS)),
                    "{sql}"
                );
                let (_, positional, _) = next_chunk(rest, false);
                assert_eq!(positional.matches('?').count(), chunk.len() * COLUMNS);
                assert!(!positional.contains('$'), "{positional}");
                rest = tail;
            }
            out
        };
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(7), [4, 1, 1, 1]);
        assert_eq!(sizes(150), [64, 64, 16, 4, 1, 1]);
        assert_eq!(sizes(256), [256]);
        assert_eq!(sizes(1000), [256, 256, 256, 64, 64, 64, 16, 16, 4, 4]);
    }
}
