//! Encryption of what the gateway stores: the two traits every storage path and every key
//! manager meet at. No cryptography here (gateway-core does no I/O and carries no cipher);
//! `gateway-store` implements both over AES-256-GCM, and `gateway-app` hands one
//! [`ContentCipher`] to the cache and the stores.
//!
//! Envelope encryption: each tenant has data keys (one current, older ones kept readable
//! until re-encrypted), each stored wrapped by a key-encryption key that a [`KeyWrapper`]
//! holds (a local key from config, or a KMS behind the same trait). Destroying a tenant's
//! data keys makes everything sealed for it unreadable wherever the ciphertext lies
//! (crypto-shredding).

use std::fmt;

use async_trait::async_trait;

use crate::principal::TenantId;

/// Why sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The tenant's data keys were destroyed: what was sealed for it is gone for good.
    #[error("the tenant's data keys were destroyed")]
    Shredded,
    /// Not a sealed value of this gateway, or tampered with, or sealed for another tenant or
    /// record (the authenticated data did not match).
    #[error("stored content failed authentication")]
    Corrupt,
    /// The key manager (KMS) refused or failed.
    #[error("key manager: {0}")]
    Kms(String),
    /// The data keys could not be read or written.
    #[error("data key store: {0}")]
    Store(String),
}

/// Seals and opens stored content for a tenant. `record` names what is stored (a response
/// id, a cache key, a file id) and is bound to the ciphertext as authenticated data, with
/// the tenant, so a sealed value copied into another tenant's or another record's place
/// does not open.
#[async_trait]
pub trait ContentCipher: Send + Sync + fmt::Debug {
    async fn seal(
        &self,
        tenant: &TenantId,
        record: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CipherError>;

    async fn open(
        &self,
        tenant: &TenantId,
        record: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CipherError>;

    /// The version of the data key `sealed` was sealed with (for re-encryption), if it is a
    /// sealed value at all.
    fn key_version(&self, sealed: &[u8]) -> Option<u32>;
}

/// The key-encryption key: wraps and unwraps data keys. The extension point for a KMS; the
/// gateway ships a local implementation keyed from config.
#[async_trait]
pub trait KeyWrapper: Send + Sync + fmt::Debug {
    /// The id of the key new wraps use.
    fn current_kek(&self) -> &str;

    /// Wraps `data_key` under the current KEK; returns its id and the wrapped bytes. `context`
    /// (the tenant and key version) is bound as authenticated data.
    async fn wrap(&self, context: &str, data_key: &[u8]) -> Result<(String, Vec<u8>), CipherError>;

    /// Unwraps bytes wrapped under `kek_id` with the same `context`.
    async fn unwrap(
        &self,
        kek_id: &str,
        context: &str,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, CipherError>;
}

/// The text form of a sealed value, for TEXT columns: `gwe1:` then base64 (standard, padded).
/// Values without the prefix are plaintext written before encryption was turned on; they are
/// read as they are until re-encrypted.
pub const SEALED_TEXT_PREFIX: &str = "gwe1:";
