//! [`FeedbackStore`] for [`SqlStore`]: callers' feedback on their own calls (migration 0013),
//! one row per (tenant, request id), the comment sealed with the tenant's data key when
//! encryption is on. Every query of a caller names the tenant; the admin API's lists and
//! summaries filter by tenant when asked. Filters are bound, never written into the SQL.

use std::time::SystemTime;

use async_trait::async_trait;
use gateway_core::encryption::CipherError;
use gateway_core::store::{
    Feedback, FeedbackAggregate, FeedbackDimension, FeedbackQuery, FeedbackStore,
    MAX_FEEDBACK_PAGE, RatedCall, unix_millis,
};
use gateway_core::{GatewayError, TenantId};
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;

use crate::connect::SqlStore;
use crate::encryption::DESTROYED;
use crate::error::StoreError;
use crate::pool::on_pool;
use crate::rows::RowExt;

const RATED_CALL: &str = "SELECT model, provider, upstream_model, task, quality_score, route_reason \
     FROM usage_records WHERE tenant = $1 AND request_id = $2 ORDER BY at_ms DESC LIMIT 1";

const UPSERT: &str = "INSERT INTO feedback (id, tenant, request_id, subject, at_ms, score, tags, \
     comment, model, provider, upstream_model, task, quality_score, route_reason) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
     ON CONFLICT (id) DO UPDATE SET subject = excluded.subject, at_ms = excluded.at_ms, \
     score = excluded.score, tags = excluded.tags, comment = excluded.comment, \
     model = excluded.model, provider = excluded.provider, \
     upstream_model = excluded.upstream_model, task = excluded.task, \
     quality_score = excluded.quality_score, route_reason = excluded.route_reason";

const COLUMNS: &str = "id, tenant, request_id, subject, at_ms, score, tags, comment, model, \
     provider, upstream_model, task, quality_score, route_reason";

pub(crate) const DELETE_CHUNK: &str = "DELETE FROM feedback WHERE id IN \
     (SELECT id FROM feedback WHERE at_ms < $1 ORDER BY at_ms LIMIT $2)";

/// The row id of a tenant's feedback on a call: fixed by both, so feedback given again
/// replaces the row (and its sealed comment keeps its record id).
pub(crate) fn feedback_id(tenant: &TenantId, request_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(tenant.as_str().as_bytes());
    h.update([0u8]);
    h.update(request_id.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The authenticated record id of a sealed comment: `feedback/<id>/comment`.
pub(crate) fn record(id: &str, column: &str) -> String {
    format!("feedback/{id}/{column}")
}

enum Bind {
    Text(String),
    Int(i64),
}

/// ` WHERE ...` over the query's filters (numbered from 1), and the binds.
fn filters(q: &FeedbackQuery) -> (String, Vec<Bind>) {
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    let mut push = |column: &str, op: &str, bind: Bind| {
        binds.push(bind);
        conditions.push(format!("{column} {op} ${}", binds.len()));
    };
    if let Some(t) = &q.tenant {
        push("tenant", "=", Bind::Text(t.as_str().to_owned()));
    }
    if let Some(m) = &q.model {
        push("model", "=", Bind::Text(m.clone()));
    }
    if let Some(p) = &q.provider {
        push("provider", "=", Bind::Text(p.clone()));
    }
    if let Some(t) = &q.task {
        push("task", "=", Bind::Text(t.clone()));
    }
    if let Some(from) = q.from {
        push("at_ms", ">=", Bind::Int(unix_millis(from)));
    }
    if let Some(until) = q.until {
        push("at_ms", "<", Bind::Int(unix_millis(until)));
    }
    if conditions.is_empty() {
        return (String::new(), binds);
    }
    (format!(" WHERE {}", conditions.join(" AND ")), binds)
}

/// Output columns of a dimension. Fixed strings only.
fn dimension_columns(d: FeedbackDimension) -> &'static [&'static str] {
    match d {
        FeedbackDimension::Tenant => &["tenant"],
        FeedbackDimension::Model => &["model"],
        FeedbackDimension::Deployment => &["provider", "upstream_model"],
        FeedbackDimension::Task => &["task"],
    }
}

fn summary_sql(q: &FeedbackQuery, group_by: &[FeedbackDimension]) -> (String, Vec<Bind>) {
    let (where_clause, binds) = filters(q);
    let mut cols: Vec<&str> = Vec::new();
    for d in group_by {
        for c in dimension_columns(*d) {
            if !cols.contains(c) {
                cols.push(c);
            }
        }
    }
    let select: String = cols.iter().map(|c| format!("{c}, ")).collect();
    let (group, order) = if cols.is_empty() {
        (String::new(), String::new())
    } else {
        let list = cols.join(", ");
        (format!(" GROUP BY {list}"), format!(" ORDER BY {list}"))
    };
    let sql = format!(
        "SELECT {select}CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(AVG(score) AS DOUBLE PRECISION) AS mean_score, \
         CAST(COALESCE(SUM(CASE WHEN score >= 0.5 THEN 1 ELSE 0 END), 0) AS BIGINT) AS positive, \
         CAST(AVG(quality_score) AS DOUBLE PRECISION) AS mean_quality \
         FROM feedback{where_clause}{group}{order}"
    );
    (sql, binds)
}

fn feedback_from_row(row: &impl RowExt) -> Result<(String, Feedback), StoreError> {
    let tags: Vec<String> = serde_json::from_str(&row.text("tags")?).unwrap_or_default();
    Ok((
        row.text("id")?,
        Feedback {
            tenant: TenantId::new(&row.text("tenant")?),
            request_id: row.text("request_id")?,
            subject: row.text("subject")?,
            at: row.time("at_ms")?,
            score: row.float("score")?,
            tags,
            comment: row.opt_text("comment")?,
            call: RatedCall {
                model: row.text("model")?,
                provider: row.opt_text("provider")?,
                upstream_model: row.opt_text("upstream_model")?,
                task: row.opt_text("task")?,
                quality: row.opt_float("quality_score")?,
                route_reason: row.opt_text("route_reason")?,
            },
        },
    ))
}

fn aggregate_from_row(
    row: &impl RowExt,
    group_by: &[FeedbackDimension],
) -> Result<FeedbackAggregate, StoreError> {
    let has = |d| group_by.contains(&d);
    let count = row.uint("n")?;
    let positive = row.uint("positive")?;
    let deployment = has(FeedbackDimension::Deployment);
    Ok(FeedbackAggregate {
        tenant: if has(FeedbackDimension::Tenant) {
            Some(row.text("tenant")?)
        } else {
            None
        },
        model: if has(FeedbackDimension::Model) {
            Some(row.text("model")?)
        } else {
            None
        },
        provider: if deployment {
            row.opt_text("provider")?
        } else {
            None
        },
        upstream_model: if deployment {
            row.opt_text("upstream_model")?
        } else {
            None
        },
        task: if has(FeedbackDimension::Task) {
            row.opt_text("task")?
        } else {
            None
        },
        count,
        mean_score: row.opt_float("mean_score")?.unwrap_or(0.0),
        positive,
        negative: count.saturating_sub(positive),
        mean_quality: row.opt_float("mean_quality")?,
    })
}

impl SqlStore {
    /// A stored comment in plaintext; a shredded tenant's reads as [`DESTROYED`].
    async fn open_comment(
        &self,
        tenant: &TenantId,
        id: &str,
        comment: Option<String>,
    ) -> Result<Option<String>, StoreError> {
        match self
            .open_opt_text(tenant, &record(id, "comment"), comment)
            .await
        {
            Err(StoreError::Cipher(CipherError::Shredded)) => Ok(Some(DESTROYED.to_owned())),
            other => other,
        }
    }
}

#[async_trait]
impl FeedbackStore for SqlStore {
    async fn rated_call(
        &self,
        tenant: &TenantId,
        request_id: &str,
    ) -> Result<Option<RatedCall>, GatewayError> {
        Ok(on_pool!(&self.backend, pool => {
            let row = sqlx::query(RATED_CALL)
                .bind(tenant.as_str())
                .bind(request_id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::from)?;
            row.map(|r| -> Result<RatedCall, StoreError> {
                Ok(RatedCall {
                    model: r.text("model")?,
                    provider: r.opt_text("provider")?,
                    upstream_model: r.opt_text("upstream_model")?,
                    task: r.opt_text("task")?,
                    quality: r.opt_float("quality_score")?,
                    route_reason: r.opt_text("route_reason")?,
                })
            })
            .transpose()?
        }))
    }

    async fn put_feedback(&self, f: &Feedback) -> Result<(), GatewayError> {
        let id = feedback_id(&f.tenant, &f.request_id);
        let comment = match &f.comment {
            Some(c) => Some(
                self.seal_text(&f.tenant, &record(&id, "comment"), c)
                    .await?,
            ),
            None => None,
        };
        let tags = serde_json::to_string(&f.tags).unwrap_or_else(|_| "[]".to_owned());
        on_pool!(&self.backend, pool => {
            sqlx::query(UPSERT)
                .bind(&id)
                .bind(f.tenant.as_str())
                .bind(&f.request_id)
                .bind(&f.subject)
                .bind(unix_millis(f.at))
                .bind(f.score)
                .bind(&tags)
                .bind(&comment)
                .bind(&f.call.model)
                .bind(&f.call.provider)
                .bind(&f.call.upstream_model)
                .bind(&f.call.task)
                .bind(f.call.quality)
                .bind(&f.call.route_reason)
                .execute(pool)
                .await
                .map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn list_feedback(&self, q: &FeedbackQuery) -> Result<Vec<Feedback>, GatewayError> {
        let (where_clause, binds) = filters(q);
        let limit = i64::from(q.limit.unwrap_or(100).clamp(1, MAX_FEEDBACK_PAGE));
        let sql = format!(
            "SELECT {COLUMNS} FROM feedback{where_clause} ORDER BY at_ms DESC, id DESC LIMIT ${}",
            binds.len() + 1
        );
        let rows = on_pool!(&self.backend, pool => {
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for b in binds {
                query = match b {
                    Bind::Text(s) => query.bind(s),
                    Bind::Int(i) => query.bind(i),
                };
            }
            let rows = query.bind(limit).fetch_all(pool).await.map_err(StoreError::from)?;
            rows.iter().map(feedback_from_row).collect::<Result<Vec<_>, _>>()?
        });
        let mut out = Vec::with_capacity(rows.len());
        for (id, mut f) in rows {
            f.comment = self.open_comment(&f.tenant, &id, f.comment).await?;
            out.push(f);
        }
        Ok(out)
    }

    async fn summarize_feedback(
        &self,
        q: &FeedbackQuery,
        group_by: &[FeedbackDimension],
    ) -> Result<Vec<FeedbackAggregate>, GatewayError> {
        let (sql, binds) = summary_sql(q, group_by);
        Ok(on_pool!(&self.backend, pool => {
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for b in binds {
                query = match b {
                    Bind::Text(s) => query.bind(s),
                    Bind::Int(i) => query.bind(i),
                };
            }
            let rows = query.fetch_all(pool).await.map_err(StoreError::from)?;
            rows.iter()
                .map(|r| aggregate_from_row(r, group_by))
                .collect::<Result<Vec<_>, _>>()?
        }))
    }

    async fn delete_feedback_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError> {
        Ok(self
            .backend
            .delete_in_chunks(DELETE_CHUNK, unix_millis(cutoff), 5_000)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_sql_binds_filters_and_groups_by_fixed_columns() {
        let q = FeedbackQuery {
            tenant: Some(TenantId::new("t'; DROP TABLE feedback; --")),
            task: Some("code".into()),
            ..FeedbackQuery::default()
        };
        let (sql, binds) = summary_sql(
            &q,
            &[
                FeedbackDimension::Deployment,
                FeedbackDimension::Task,
                FeedbackDimension::Task,
            ],
        );
        assert!(sql.contains("WHERE tenant = $1 AND task = $2"), "{sql}");
        assert!(
            sql.contains("GROUP BY provider, upstream_model, task ORDER BY"),
            "{sql}"
        );
        assert!(!sql.contains("DROP"), "{sql}");
        assert_eq!(binds.len(), 2);
    }

    #[test]
    fn the_row_id_is_fixed_by_tenant_and_request() {
        let a = feedback_id(&TenantId::new("a"), "r1");
        assert_eq!(a, feedback_id(&TenantId::new("a"), "r1"));
        assert_ne!(a, feedback_id(&TenantId::new("b"), "r1"));
        assert_ne!(a, feedback_id(&TenantId::new("a"), "r2"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            feedback_id(&TenantId::new("ab"), "c"),
            feedback_id(&TenantId::new("a"), "bc")
        );
        assert_eq!(a.len(), 32);
    }
}
