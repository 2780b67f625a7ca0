//! The two backends behind one handle, and the macro that runs the same code on either.

use sqlx::{PgPool, SqlitePool};

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

    pub(crate) async fn close(&self) {
        match self {
            Backend::Sqlite(p) => p.close().await,
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
