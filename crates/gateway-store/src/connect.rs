//! [`SqlStore`]: connecting, pragmas, migrations.

use std::path::Path;
use std::str::FromStr;

use gateway_core::GatewayError;
use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::config::{StoreConfig, StoreOptions};
use crate::error::StoreError;
use crate::pool::Backend;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The SQL store: SQLite or PostgreSQL behind the `gateway_core::store` traits. Cheap to
/// share as `Arc<SqlStore>` / `Arc<dyn Store>`; the pool inside is already shared.
#[derive(Debug)]
pub struct SqlStore {
    pub(crate) backend: Backend,
    /// Serialises audit appends within this process; across processes the database locks.
    pub(crate) audit_lock: tokio::sync::Mutex<()>,
    /// Seals content columns when set (module `encryption`).
    pub(crate) keyring: std::sync::OnceLock<std::sync::Arc<crate::encryption::Keyring>>,
}

impl SqlStore {
    /// Connects to `url` (`sqlite://PATH?mode=rwc`, `sqlite::memory:`, `postgres://...`) with
    /// default options and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &StoreOptions::default()).await
    }

    /// Connects as configured by the `[store]` section; SQLite files live under `data_dir`.
    pub async fn from_config(config: &StoreConfig, data_dir: &Path) -> Result<Self, StoreError> {
        let options = StoreOptions {
            max_connections: config.max_connections,
            ..StoreOptions::default()
        };
        Self::connect_with(&config.url(data_dir), &options).await
    }

    pub async fn connect_with(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite(connect_sqlite(url, options).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(connect_postgres(url, options).await?)
        } else {
            return Err(StoreError::Config(
                "database_url must start with sqlite:, postgres:// or postgresql://".to_owned(),
            ));
        };
        let store = SqlStore {
            backend,
            audit_lock: tokio::sync::Mutex::new(()),
            keyring: std::sync::OnceLock::new(),
        };
        if options.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Applies pending migrations (idempotent; safe from several instances at once).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Closes every pooled connection (at shutdown; SQLite checkpoints its WAL).
    pub async fn close(&self) {
        self.backend.close().await;
    }

    pub(crate) async fn ping_backend(&self) -> Result<(), GatewayError> {
        crate::pool::on_pool!(&self.backend, pool => {
            sqlx::query("SELECT 1").execute(pool).await.map(|_| ()).map_err(|e| StoreError::from(e).into_gateway())
        })
    }
}

async fn connect_sqlite(url: &str, options: &StoreOptions) -> Result<sqlx::SqlitePool, StoreError> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut connect = SqliteConnectOptions::from_str(url)?
        .foreign_keys(true)
        .busy_timeout(options.busy_timeout);
    if !in_memory {
        connect = connect
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
    }
    // An in-memory database lives as long as its one connection.
    let pool = if in_memory {
        PoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        PoolOptions::new().max_connections(options.max_connections.unwrap_or(4))
    };
    Ok(pool
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await?)
}

async fn connect_postgres(url: &str, options: &StoreOptions) -> Result<sqlx::PgPool, StoreError> {
    let mut connect = PgConnectOptions::from_str(url)?.application_name("llm-gateway");
    if let Some(schema) = &options.pg_schema {
        if schema.is_empty()
            || !schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(StoreError::Config(
                "pg_schema must be lowercase letters, digits and '_'".to_owned(),
            ));
        }
        let mut conn = PgConnection::connect_with(&connect).await?;
        // The name is checked above to be a plain identifier.
        sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        connect = connect.options([("search_path", schema.as_str())]);
    }
    Ok(PoolOptions::new()
        .max_connections(options.max_connections.unwrap_or(8))
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await?)
}

#[async_trait::async_trait]
impl gateway_core::store::Store for SqlStore {
    async fn ping(&self) -> Result<(), GatewayError> {
        self.ping_backend().await
    }

    fn backend(&self) -> &'static str {
        self.backend.name()
    }
}
