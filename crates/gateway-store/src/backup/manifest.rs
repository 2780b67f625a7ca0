//! The manifest: the last, authenticated chunk of every archive.

use serde::{Deserialize, Serialize};

/// What a backup holds. Readable without decrypting the payload (`gatewayctl backup list`),
/// yet authenticated by the same key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The archive format (1).
    pub format: u32,
    /// The file's name without `.gwbackup`.
    pub id: String,
    /// The gateway version that wrote it.
    pub gateway_version: String,
    /// `sqlite` or `postgres`: a backup restores into the same kind of store.
    pub backend: String,
    /// The highest migration applied to the store; restores only into a store at the same one.
    pub schema_version: i64,
    /// When the snapshot was taken, unix milliseconds.
    pub created_at_ms: i64,
    /// How long taking it took, milliseconds.
    pub duration_ms: u64,
    /// Every table of the schema, in restore order (parents first), with its rows.
    pub tables: Vec<TableRows>,
    /// The last audit record in the backup (none when the log was empty).
    pub audit_head: Option<AuditHead>,
    /// Length and SHA-256 (hex) of the plaintext payload.
    pub payload_bytes: u64,
    pub payload_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRows {
    pub name: String,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

impl Manifest {
    /// Rows of `table` (0 when the table is not in the backup).
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|t| t.name == table)
            .map_or(0, |t| t.rows)
    }
}
