//! The store's errors, and how they become [`GatewayError`]s at the trait boundary.

use gateway_core::GatewayError;
use gateway_core::encryption::CipherError;
use gateway_core::store::CONFLICT_CODE;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL or an option is not usable. Never echoes the URL (it may hold a password).
    #[error("invalid store configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row cannot be read back (hand-edited, or written by a newer version).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// Creating, verifying or restoring a backup failed.
    #[error(transparent)]
    Backup(crate::backup::BackupError),
    /// Sealing or opening stored content failed (see [`CipherError`]).
    #[error("stored content: {0}")]
    Cipher(#[from] CipherError),
}

impl StoreError {
    /// Whether the database refused a duplicate primary or unique key.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sql(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// Whether the database refused a reference to a missing row.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, StoreError::Sql(sqlx::Error::Database(e)) if e.is_foreign_key_violation())
    }

    /// The error a caller sees. Backend details are logged here, never returned.
    pub fn into_gateway(self) -> GatewayError {
        if let StoreError::Cipher(CipherError::Shredded) = self {
            // Crypto-shredded content is gone, not temporarily unavailable.
            return GatewayError::NotFound(
                "This content was destroyed with its tenant's keys.".to_owned(),
            );
        }
        tracing::error!(error = %self, "store operation failed");
        GatewayError::Unavailable("The gateway's store is unavailable; retry later.".to_owned())
    }
}

impl From<StoreError> for GatewayError {
    fn from(e: StoreError) -> Self {
        e.into_gateway()
    }
}

/// The duplicate-id error of the store traits.
pub(crate) fn conflict(what: &str, id: &str) -> GatewayError {
    GatewayError::InvalidRequest {
        message: format!("{what} '{id}' already exists."),
        param: Some("id".to_owned()),
        code: Some(CONFLICT_CODE),
    }
}

pub(crate) fn not_found(what: &str, id: &str) -> GatewayError {
    GatewayError::NotFound(format!("{what} '{id}' not found."))
}
