//! The two backends behind one handle, and the macro that runs the same code on either.

use sqlx::{PgPool, SqlitePool};

use crate::error::StoreError;

/// A connection pool for one of the supported databases. The SQL of both is identical except
/// where a module says otherwise (placeholders are `$1`, `$2`, ... for both).
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Backend {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Runs a retention `DELETE` (`$1` the cutoff, `$2` the chunk size) until a chunk deletes
    /// fewer than `chunk_rows`; returns the rows deleted. Each chunk is its own statement, so
    /// a months-old backlog never holds a table's write lock (SQLite) or one huge transaction
    /// (PostgreSQL) while requests write rows.
    pub(crate) async fn delete_in_chunks(
        &self,
        sql: &'static str,
        cutoff: i64,
        chunk_rows: i64,
    ) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let done = on_pool!(self, pool => {
                sqlx::query(sql).bind(cutoff).bind(chunk_rows).execute(pool).await?.rows_affected()
            });
            deleted += done;
            if done < chunk_rows.unsigned_abs() {
                return Ok(deleted);
            }
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Backend::Sqlite(p) => {
                // Fold the WAL into the database file first, so that a stopped gateway leaves
                // one self-contained file (copies and backups of it alone are complete). Best
                // effort: a busy or in-memory database just skips it.
                let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(p)
                    .await;
                p.close().await
            }
            Backend::Postgres(p) => p.close().await,
        }
    }
}

/// `on_pool!(backend, pool => expr)`: evaluates `expr` with `pool` bound to the concrete pool
/// (`&SqlitePool` or `&PgPool`). The expression is compiled once per backend, so generic sqlx
/// calls resolve to each driver without an `Any` layer.
macro_rules! on_pool {
    ($backend:expr, $pool:ident => $body:expr) => {
        match $backend {
            $crate::pool::Backend::Sqlite($pool) => $body,
            $crate::pool::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;
