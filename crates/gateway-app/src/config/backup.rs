//! `[backup]`: where backups of the store go, the key that encrypts them, and the schedule.
//!
//! ```toml
//! [backup]
//! key = "${GATEWAY_BACKUP_KEY}"   # 32 bytes, standard base64 (openssl rand -base64 32)
//! dir = "/var/backups/gateway"    # default <server.data_dir>/backups
//! interval = "6h"                 # scheduled backups; none without it
//! keep = 14                       # the newest scheduled archives kept in dir
//! ```
//!
//! Without `key`, backups are off: `POST /admin/v1/backups` answers that they are not
//! configured. See `docs/operations.md`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gateway_core::Secret;
use serde::Deserialize;

use super::Problem;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// The archive key (AES-256-GCM): 32 bytes in standard base64, usually `${VAR}`.
    pub key: Option<Secret<String>>,
    /// The directory of archives (default `<server.data_dir>/backups`).
    pub dir: Option<PathBuf>,
    /// How often a scheduled backup is taken (across instances: once per interval).
    #[serde(deserialize_with = "deserialize_opt_duration")]
    pub interval: Option<Duration>,
    /// How many scheduled archives (`gateway-*.gwbackup`) the directory keeps.
    pub keep: usize,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            key: None,
            dir: None,
            interval: None,
            keep: 7,
        }
    }
}

fn deserialize_opt_duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    gateway_core::duration::deserialize(d).map(Some)
}

/// The shortest schedule accepted: a backup reads every table.
pub const MIN_INTERVAL: Duration = Duration::from_secs(60);

impl BackupConfig {
    /// The archive directory for a data directory.
    pub fn dir_under(&self, data_dir: &Path) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| data_dir.join("backups"))
    }

    pub(crate) fn validate(&self, signed_file: bool, problems: &mut Vec<Problem>) {
        if let Some(key) = &self.key
            && let Err(e) = gateway_store::BackupKey::from_base64(key.expose())
        {
            problems.push(Problem::new("backup.key", e.to_string()));
        }
        if let Some(interval) = self.interval {
            if interval < MIN_INTERVAL {
                problems.push(Problem::new("backup.interval", "must be at least 1m"));
            }
            if self.key.is_none() {
                problems.push(Problem::new(
                    "backup.interval",
                    "scheduled backups need backup.key",
                ));
            }
        }
        if self.keep == 0 {
            problems.push(Problem::new("backup.keep", "must be at least 1"));
        }
        if signed_file && (self.key.is_some() || self.interval.is_some()) {
            problems.push(Problem::new(
                "backup",
                "the edge profile (store.signed_file) has no database to back up",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_reported_with_their_path() {
        let config = BackupConfig {
            key: Some(Secret::new("c2hvcnQ=".to_owned())),
            dir: None,
            interval: Some(Duration::from_secs(5)),
            keep: 0,
        };
        let mut problems = Vec::new();
        config.validate(false, &mut problems);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["backup.key", "backup.interval", "backup.keep"]);
        let no_key = BackupConfig {
            interval: Some(Duration::from_secs(3600)),
            ..BackupConfig::default()
        };
        let mut problems = Vec::new();
        no_key.validate(false, &mut problems);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("need backup.key"));
    }
}
