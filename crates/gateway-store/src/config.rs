//! The `[store]` configuration section and connection tuning.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::signed_file::{PublicKey, SignedFileConfig};

/// The `[store]` section of the gateway configuration.
///
/// ```toml
/// [store]
/// # Default: SQLite file `gateway.db` under the data directory.
/// database_url = "postgres://gateway:${PGPASSWORD}@db.internal/gateway"
/// max_connections = 8
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH` or `postgres://...`; `None` means the embedded SQLite file.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Pool size; default 8 for PostgreSQL, 4 for SQLite.
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// The edge profile: tenants and keys from a signed file, no database (exclusive with
    /// `database_url`).
    #[serde(default)]
    pub signed_file: Option<SignedFileConfig>,
}

impl StoreConfig {
    /// The URL to connect to: `database_url`, or the SQLite file under `data_dir`.
    pub fn url(&self, data_dir: &Path) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("gateway.db").display()
            ),
        }
    }

    /// Problems as `(dotted key path under prefix, message)` (prefix e.g. `"store"`); empty
    /// when valid.
    pub fn problems(&self, prefix: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            out.push((
                format!("{prefix}.database_url"),
                "must start with sqlite:, postgres:// or postgresql://".to_owned(),
            ));
        }
        if let Some(file) = &self.signed_file {
            if self.database_url.is_some() {
                out.push((
                    format!("{prefix}.signed_file"),
                    "cannot be combined with database_url: the edge profile has no database"
                        .to_owned(),
                ));
            }
            if let Err(e) = PublicKey::from_base64(&file.public_key) {
                out.push((format!("{prefix}.signed_file.public_key"), e.to_string()));
            }
        }
        if self.max_connections == Some(0) {
            out.push((
                format!("{prefix}.max_connections"),
                "must be at least 1".to_owned(),
            ));
        }
        out
    }
}

/// Connection tuning beyond the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Pool size; `None`: 8 for PostgreSQL, 4 for SQLite (1 for in-memory SQLite).
    pub max_connections: Option<u32>,
    /// How long a query waits for a pooled connection.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for the database lock.
    pub busy_timeout: Duration,
    /// PostgreSQL only: create this schema if missing and use it as `search_path`
    /// (lowercase letters, digits and `_`). Tests use one schema per run.
    pub pg_schema: Option<String>,
    /// Apply pending migrations on connect (default true).
    pub migrate: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: None,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
            pg_schema: None,
            migrate: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_url_is_a_sqlite_file_under_the_data_dir() {
        let url = StoreConfig::default().url(Path::new("/var/lib/gw"));
        assert_eq!(url, "sqlite:///var/lib/gw/gateway.db?mode=rwc");
    }

    #[test]
    fn problems_name_their_key_path() {
        let cfg = StoreConfig {
            database_url: Some("mysql://x".into()),
            max_connections: Some(0),
            signed_file: None,
        };
        let keys: Vec<_> = cfg.problems("store").into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["store.database_url", "store.max_connections"]);
    }
}
