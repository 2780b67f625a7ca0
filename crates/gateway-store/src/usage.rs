//! [`UsageStore`] for [`SqlStore`]: batched inserts and grouped aggregates.

use async_trait::async_trait;
use gateway_core::phases::account::UsageRecord;
use gateway_core::store::{
    UsageAggregate, UsageDimension, UsageQuery, UsageStore, from_unix_millis, unix_millis,
};
use gateway_core::{GatewayError, TenantId};
use sqlx::AssertSqlSafe;

use crate::connect::SqlStore;
use crate::error::StoreError;
use crate::pool::on_pool;
use crate::rows::RowExt;

const INSERT: &str = "INSERT INTO usage_records (request_id, at_ms, tenant, subject, endpoint, model, provider, \
                      upstream_model, prompt_tokens, completion_tokens, total_tokens, cached_tokens, \
                      reasoning_tokens, cost_usd, status, latency_ms, ttft_ms, stream, cache_hit, cancelled) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";

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
    }
}

/// Builds the aggregate query; returns the SQL and the text and integer binds in order.
fn aggregate_sql(q: &UsageQuery) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    let mut filters = Vec::new();
    let mut push = |column: &str, op: &str, bind: Bind| {
        binds.push(bind);
        filters.push(format!("{column} {op} ${}", binds.len()));
    };
    if let Some(t) = &q.tenant {
        push("tenant", "=", Bind::Text(t.as_str().to_owned()));
    }
    if let Some(s) = &q.subject {
        push("subject", "=", Bind::Text(s.clone()));
    }
    if let Some(m) = &q.model {
        push("model", "=", Bind::Text(m.clone()));
    }
    if let Some(from) = q.from {
        push("at_ms", ">=", Bind::Int(unix_millis(from)));
    }
    if let Some(until) = q.until {
        push("at_ms", "<", Bind::Int(unix_millis(until)));
    }
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
    let where_clause = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let group_cols: Vec<&str> = dims.iter().map(|d| dimension_sql(*d).1).collect();
    let (group, order) = if group_cols.is_empty() {
        (String::new(), String::new())
    } else {
        let cols = group_cols.join(", ");
        (format!("GROUP BY {cols}"), format!("ORDER BY {cols}"))
    };
    let sql = format!(
        "SELECT {select_dims}\
         COUNT(*) AS requests, \
         CAST(COALESCE(SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), 0) AS BIGINT) AS errors, \
         CAST(COALESCE(SUM(CASE WHEN cache_hit THEN 1 ELSE 0 END), 0) AS BIGINT) AS cache_hits, \
         CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
         CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens, \
         CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT) AS total_tokens, \
         CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) AS cost_usd, \
         CAST(COALESCE(SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS unpriced \
         FROM usage_records {where_clause} {group} {order}"
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
        requests: row.uint("requests")?,
        errors: row.uint("errors")?,
        cache_hits: row.uint("cache_hits")?,
        prompt_tokens: row.uint("prompt_tokens")?,
        completion_tokens: row.uint("completion_tokens")?,
        total_tokens: row.uint("total_tokens")?,
        cost_usd: row.float("cost_usd")?,
        unpriced_requests: row.uint("unpriced")?,
    })
}

#[async_trait]
impl UsageStore for SqlStore {
    async fn insert_usage(&self, records: &[UsageRecord]) -> Result<(), GatewayError> {
        if records.is_empty() {
            return Ok(());
        }
        on_pool!(&self.backend, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::from)?;
            for r in records {
                let usage = r.usage.as_ref();
                sqlx::query(INSERT)
                    .bind(&*r.request_id)
                    .bind(unix_millis(r.at))
                    .bind(r.tenant.as_str())
                    .bind(&*r.subject)
                    .bind(r.endpoint)
                    .bind(&r.model)
                    .bind(r.provider.as_deref())
                    .bind(r.upstream_model.as_deref())
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
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
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
}

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
        assert!(!sql.contains("DROP"), "{sql}");
        assert!(sql.contains("GROUP BY g_model, g_day"), "{sql}");
        assert_eq!(binds.len(), 2);
    }
}
