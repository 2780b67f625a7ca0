//! Backends for the suite: a fresh SQLite file or a fresh PostgreSQL schema per case.

use std::sync::Once;

use gateway_core::store::Store;
use gateway_store::{SqlStore, StoreOptions};
use sqlx::{AssertSqlSafe, Connection, Row};

pub struct Harness {
    pub store: SqlStore,
    pub url: String,
    pub schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

static SKIP_NOTICE: Once = Once::new();

impl Harness {
    pub async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("gateway.db").display()
        );
        let store = SqlStore::connect(&url).await.unwrap();
        assert_eq!(store.backend(), "sqlite");
        Harness {
            store,
            url,
            schema: None,
            _dir: Some(dir),
        }
    }

    /// `None` (after one notice) when PostgreSQL is not configured and not required.
    pub async fn postgres() -> Option<Harness> {
        let Ok(url) = std::env::var("GATEWAY_TEST_DATABASE_URL") else {
            if std::env::var("GATEWAY_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("GATEWAY_REQUIRE_SERVICES=1 but GATEWAY_TEST_DATABASE_URL is not set");
            }
            SKIP_NOTICE.call_once(|| println!("skipped: GATEWAY_TEST_DATABASE_URL not set"));
            return None;
        };
        let schema = format!("gw_test_{}", uuid::Uuid::new_v4().simple());
        let options = StoreOptions {
            pg_schema: Some(schema.clone()),
            ..StoreOptions::default()
        };
        let store = SqlStore::connect_with(&url, &options).await.unwrap();
        assert_eq!(store.backend(), "postgres");
        Some(Harness {
            store,
            url,
            schema: Some(schema),
            _dir: None,
        })
    }

    /// A new, empty store of the same backend (a restore target).
    pub async fn fresh(&self) -> Harness {
        if self.schema.is_some() {
            Harness::postgres().await.unwrap()
        } else {
            Harness::sqlite().await
        }
    }

    pub fn store_backend(&self) -> &'static str {
        if self.schema.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// Every base table of the store's schema, by name, read from the catalog.
    pub async fn all_tables(&self) -> Vec<String> {
        let sql = if self.schema.is_some() {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        };
        if self.schema.is_some() {
            let mut conn = self.pg_conn().await;
            sqlx::query(sql)
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query(sql)
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        }
    }

    /// A second, independent store on the same database (another gateway instance).
    pub async fn second_instance(&self) -> SqlStore {
        let options = StoreOptions {
            pg_schema: self.schema.clone(),
            ..StoreOptions::default()
        };
        SqlStore::connect_with(&self.url, &options).await.unwrap()
    }

    /// Runs a statement outside the store (to tamper with rows, or read pragmas).
    pub async fn raw_execute(&self, sql: &str) {
        if self.schema.is_some() {
            let mut conn = self.pg_conn().await;
            sqlx::query(AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap();
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query(AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }

    pub async fn raw_scalar_text(&self, sql: &str) -> String {
        if self.schema.is_some() {
            let mut conn = self.pg_conn().await;
            sqlx::query(AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get(0)
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query(AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get(0)
        }
    }

    async fn pg_conn(&self) -> sqlx::PgConnection {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
        if let Some(schema) = &self.schema {
            sqlx::query(AssertSqlSafe(format!("SET search_path TO {schema}")))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn
    }

    /// Closes the store and drops the PostgreSQL schema.
    pub async fn finish(mut self) {
        self.store.close().await;
        if let Some(schema) = self.schema.take() {
            drop_schema(&self.url, &schema).await;
        }
    }
}

async fn drop_schema(url: &str, schema: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
}

impl Drop for Harness {
    /// A failed case never reaches `finish`: drop its schema here, on a runtime of its own.
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        let url = self.url.clone();
        let cleanup = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_schema(&url, &schema));
            }
        });
        let _ = cleanup.join();
    }
}
