//! The edge profile's store: tenants and hashed API keys from a file signed with Ed25519,
//! verified at startup and on every reload, served from memory, never written. A gateway
//! with this store needs no database; the price is that tenants and keys change only by
//! signing a new file, and that usage and audit live in metrics and the audit file.
//!
//! - [`document`]: what the file holds ([`EdgeDocument`]), written by the operator as TOML.
//! - [`envelope`]: signing and verification ([`SigningKey`], [`PublicKey`], [`verify`]).
//! - [`SignedFileStore`]: the `gateway_core::store` traits over a verified file.

pub mod document;
pub mod envelope;
mod store;

use std::path::PathBuf;

use serde::Deserialize;

pub use document::{EdgeDocument, KeyEntry, TenantEntry};
pub use envelope::{PublicKey, SigningKey, verify};
pub use store::{READ_ONLY_CODE, SignedFileStore};

/// `[store.signed_file]`: the edge profile.
///
/// ```toml
/// [store.signed_file]
/// path = "/etc/llm-gateway/tenants.signed.json"
/// public_key = "${GATEWAY_EDGE_PUBLIC_KEY}"   # base64, from `llm-gateway edge keygen`
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedFileConfig {
    pub path: PathBuf,
    /// Base64 of the 32-byte Ed25519 public key the file must be signed with.
    pub public_key: String,
}

/// Why a signed file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SignedFileError {
    #[error("cannot read the signed tenants file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the tenants file is not signed: {0}")]
    Unsigned(String),
    #[error(
        "the tenants file's signature does not match store.signed_file.public_key: it was altered after signing, or signed with another key"
    )]
    BadSignature,
    #[error("the signed tenants file is invalid: {0}")]
    Invalid(String),
    #[error(
        "the signed tenants file has serial {file}, older than the {served} being served; sign it with a higher serial"
    )]
    Rollback { file: u64, served: u64 },
    #[error("store.signed_file.public_key: {0}")]
    PublicKey(String),
    #[error("signing key: {0}")]
    SigningKey(String),
    #[error("{0} changed: restart the gateway to use it")]
    Restart(&'static str),
}
