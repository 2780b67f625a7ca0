//! [`AuditStore`] for [`SqlStore`]: appending to the hash chain, listing, verifying.

use async_trait::async_trait;
use gateway_core::store::{
    AuditEvent, AuditOutcome, AuditQuery, AuditRecord, AuditStore, AuditVerification,
    from_unix_millis, unix_millis,
};
use gateway_core::{GatewayError, TenantId};
use sqlx::AssertSqlSafe;

use crate::chain::{ChainFields, GENESIS_HASH, chain_hash};
use crate::connect::SqlStore;
use crate::error::StoreError;
use crate::pool::{Backend, on_pool};
use crate::rows::{RowExt, json_from_text};

const COLUMNS: &str =
    "seq, at_ms, tenant, actor, action, target, outcome, ip, details, prev_hash, hash";
/// PostgreSQL advisory lock taken (per transaction) by every appender, across instances.
const PG_AUDIT_LOCK: i64 = 0x0067_7761_7564_6974; // "gwaudit"
const MAX_LIST: u32 = 10_000;
const VERIFY_PAGE: i64 = 1_000;

/// A row exactly as stored.
struct RawAudit {
    seq: i64,
    at_ms: i64,
    tenant: Option<String>,
    actor: String,
    action: String,
    target: Option<String>,
    outcome: String,
    ip: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

impl RawAudit {
    fn from_row(row: &impl RowExt) -> Result<Self, StoreError> {
        Ok(RawAudit {
            seq: row.int("seq")?,
            at_ms: row.int("at_ms")?,
            tenant: row.opt_text("tenant")?,
            actor: row.text("actor")?,
            action: row.text("action")?,
            target: row.opt_text("target")?,
            outcome: row.text("outcome")?,
            ip: row.opt_text("ip")?,
            details: row.text("details")?,
            prev_hash: row.text("prev_hash")?,
            hash: row.text("hash")?,
        })
    }

    fn fields(&self) -> ChainFields<'_> {
        ChainFields {
            seq: self.seq,
            at_ms: self.at_ms,
            tenant: self.tenant.as_deref(),
            actor: &self.actor,
            action: &self.action,
            target: self.target.as_deref(),
            outcome: &self.outcome,
            ip: self.ip.as_deref(),
            details: &self.details,
            prev_hash: &self.prev_hash,
        }
    }

    fn into_record(self) -> Result<AuditRecord, StoreError> {
        let outcome = AuditOutcome::parse(&self.outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("audit outcome '{}'", self.outcome)))?;
        Ok(AuditRecord {
            seq: u64::try_from(self.seq)
                .map_err(|_| StoreError::Corrupt("audit seq is negative".to_owned()))?,
            event: AuditEvent {
                at: from_unix_millis(self.at_ms),
                tenant: self.tenant.as_deref().map(TenantId::new),
                actor: self.actor,
                action: self.action,
                target: self.target,
                outcome,
                ip: self.ip,
                details: json_from_text("details", &self.details)?,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

enum Bind {
    Text(String),
    Int(i64),
}

fn list_sql(q: &AuditQuery) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    let mut filters = Vec::new();
    let mut push = |clause: &str, bind: Bind| {
        binds.push(bind);
        filters.push(format!("{clause} ${}", binds.len()));
    };
    if let Some(t) = &q.tenant {
        push("tenant =", Bind::Text(t.as_str().to_owned()));
    }
    if let Some(a) = &q.actor {
        push("actor =", Bind::Text(a.clone()));
    }
    if let Some(a) = &q.action {
        push("action =", Bind::Text(a.clone()));
    }
    if let Some(from) = q.from {
        push("at_ms >=", Bind::Int(unix_millis(from)));
    }
    if let Some(until) = q.until {
        push("at_ms <", Bind::Int(unix_millis(until)));
    }
    if let Some(after) = q.after_seq {
        push("seq >", Bind::Int(i64::try_from(after).unwrap_or(i64::MAX)));
    }
    let where_clause = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let order = if q.newest_first { "DESC" } else { "ASC" };
    binds.push(Bind::Int(i64::from(q.limit.min(MAX_LIST))));
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events {where_clause} ORDER BY seq {order} LIMIT ${}",
        binds.len()
    );
    (sql, binds)
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, e: &AuditEvent) -> Result<AuditRecord, GatewayError> {
        let details = self.seal_audit_details(e).await?.to_string();
        let _in_process = self.audit_lock.lock().await;
        // SQLite: take the write lock up front; PostgreSQL: an advisory lock for the transaction.
        let (begin, lock) = match &self.backend {
            Backend::Sqlite(_) => ("BEGIN IMMEDIATE", None),
            Backend::Postgres(_) => ("BEGIN", Some("SELECT pg_advisory_xact_lock($1)")),
        };
        let raw = on_pool!(&self.backend, pool => {
            let mut tx = pool.begin_with(begin).await.map_err(StoreError::from)?;
            if let Some(lock) = lock {
                sqlx::query(lock).bind(PG_AUDIT_LOCK).execute(&mut *tx).await.map_err(StoreError::from)?;
            }
            let tail = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            let (prev_seq, prev_hash) = match tail {
                Some(row) => (row.int("seq")?, row.text("hash")?),
                None => (0, GENESIS_HASH.to_owned()),
            };
            let mut raw = RawAudit {
                seq: prev_seq + 1,
                at_ms: unix_millis(e.at),
                tenant: e.tenant.as_ref().map(|t| t.as_str().to_owned()),
                actor: e.actor.clone(),
                action: e.action.clone(),
                target: e.target.clone(),
                outcome: e.outcome.as_str().to_owned(),
                ip: e.ip.clone(),
                details,
                prev_hash,
                hash: String::new(),
            };
            raw.hash = chain_hash(&raw.fields());
            sqlx::query(
                "INSERT INTO audit_events (seq, at_ms, tenant, actor, action, target, outcome, ip, details, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(raw.seq)
            .bind(raw.at_ms)
            .bind(raw.tenant.as_deref())
            .bind(&raw.actor)
            .bind(&raw.action)
            .bind(raw.target.as_deref())
            .bind(&raw.outcome)
            .bind(raw.ip.as_deref())
            .bind(&raw.details)
            .bind(&raw.prev_hash)
            .bind(&raw.hash)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            tx.commit().await.map_err(StoreError::from)?;
            raw
        });
        let mut record = raw.into_record()?;
        record.event.details = e.details.clone();
        Ok(record)
    }

    async fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, GatewayError> {
        let (sql, binds) = list_sql(q);
        let mut records = on_pool!(&self.backend, pool => {
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for b in binds {
                query = match b {
                    Bind::Text(s) => query.bind(s),
                    Bind::Int(i) => query.bind(i),
                };
            }
            let rows = query.fetch_all(pool).await.map_err(StoreError::from)?;
            rows
                .iter()
                .map(|r| RawAudit::from_row(r).and_then(RawAudit::into_record))
                .collect::<Result<Vec<_>, _>>()?
        });
        if self.keyring.get().is_some() {
            for r in &mut records {
                self.open_audit_details(r).await?;
            }
        }
        Ok(records)
    }

    async fn verify_audit(&self) -> Result<AuditVerification, GatewayError> {
        let sql =
            format!("SELECT {COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2");
        let mut checked = 0u64;
        let mut last_seq = 0i64;
        let mut last_hash = GENESIS_HASH.to_owned();
        loop {
            let page: Vec<RawAudit> = on_pool!(&self.backend, pool => {
                let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(last_seq)
                    .bind(VERIFY_PAGE)
                    .fetch_all(pool)
                    .await
                    .map_err(StoreError::from)?;
                rows.iter().map(RawAudit::from_row).collect::<Result<Vec<_>, _>>()?
            });
            if page.is_empty() {
                return Ok(AuditVerification {
                    checked,
                    first_broken_seq: None,
                });
            }
            for raw in page {
                checked += 1;
                let linked = raw.seq == last_seq + 1 && raw.prev_hash == last_hash;
                if !linked || chain_hash(&raw.fields()) != raw.hash {
                    let seq = u64::try_from(raw.seq).unwrap_or(0);
                    return Ok(AuditVerification {
                        checked,
                        first_broken_seq: Some(seq),
                    });
                }
                last_seq = raw.seq;
                last_hash = raw.hash;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_sql_binds_the_limit_last_and_caps_it() {
        let q = AuditQuery {
            actor: Some("a".into()),
            after_seq: Some(5),
            limit: u32::MAX,
            ..AuditQuery::default()
        };
        let (sql, binds) = list_sql(&q);
        assert!(
            sql.ends_with("WHERE actor = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3"),
            "{sql}"
        );
        assert!(matches!(binds.last(), Some(Bind::Int(n)) if *n == i64::from(MAX_LIST)));
    }
}
