//! What can go wrong with a backup archive, worded for the operator who reads it.

/// A backup, verification or restore that did not succeed. Messages name the file's problem
/// and what to do; they never carry key material or row contents.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup file I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The backup key from the configuration is not 32 bytes of standard base64.
    #[error("invalid backup key: {0}")]
    Key(String),
    #[error("not a gateway backup archive (bad magic or unsupported format version)")]
    NotAnArchive,
    /// The trailer is missing or the final chunk never came.
    #[error("the archive is truncated (its end marker or final chunk is missing)")]
    Truncated,
    #[error(
        "the archive was encrypted with another key (archive key id {archive}, configured key id {configured})"
    )]
    WrongKey { archive: String, configured: String },
    /// A chunk failed AES-GCM authentication: flipped bytes, reordered or dropped chunks.
    #[error("the archive was modified or damaged: chunk {chunk} does not authenticate")]
    Tampered { chunk: u64 },
    #[error("the archive is malformed: {0}")]
    Malformed(String),
    #[error("payload checksum mismatch: manifest says {expected}, payload hashes to {actual}")]
    Checksum { expected: String, actual: String },
    #[error("row counts differ from the manifest: {0}")]
    Counts(String),
    #[error("the audit chain inside the backup is broken at seq {seq}")]
    ChainBroken { seq: i64 },
    #[error(
        "schema mismatch: the backup is at schema version {backup}, the target store at {store}; restore with the gateway version that wrote the backup ({gateway_version}) into a store migrated to {backup}"
    )]
    SchemaVersion {
        backup: i64,
        store: i64,
        gateway_version: String,
    },
    #[error("schema mismatch: {0}")]
    Schema(String),
    #[error("the backup is of a {backup} store and cannot be restored into {store}")]
    Backend { backup: String, store: String },
    #[error(
        "the target store is not empty (table {table} holds {rows} rows); restore into an empty store, or pass the replace option to delete its rows first"
    )]
    NotEmpty { table: String, rows: i64 },
    #[error("another backup is running")]
    Busy,
}
