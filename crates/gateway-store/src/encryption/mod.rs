//! Encryption of stored content (envelope encryption with crypto-shredding): the local KEK
//! ([`LocalKek`]), the per-tenant data keys ([`Keyring`], migration 0011) and the text form
//! sealed values take in the store's TEXT columns.
//!
//! The store seals its content columns (Responses API state, async results, batch lines and
//! results, audit details) when a keyring is set ([`SqlStore::set_keyring`]); rows written
//! before stay readable as plaintext until [`SqlStore::reencrypt_tenant`] seals them.

mod aead;
mod audit_details;
mod data_keys;
mod kek;
mod keyring;
mod reencrypt;

use std::sync::Arc;

use base64::Engine as _;
use gateway_core::TenantId;
use gateway_core::encryption::{CipherError, ContentCipher, SEALED_TEXT_PREFIX};

pub use audit_details::DESTROYED;
pub use kek::LocalKek;
pub use keyring::{KeyStatus, Keyring, RewrapReport};
pub use reencrypt::ReencryptReport;

use crate::connect::SqlStore;
use crate::error::StoreError;

/// `gwe1:` + base64 of a sealed value.
pub fn to_text(sealed: &[u8]) -> String {
    let mut s = String::with_capacity(SEALED_TEXT_PREFIX.len() + sealed.len() * 4 / 3 + 4);
    s.push_str(SEALED_TEXT_PREFIX);
    base64::engine::general_purpose::STANDARD.encode_string(sealed, &mut s);
    s
}

/// The sealed bytes of a text column, or `None` for plaintext.
pub fn from_text(text: &str) -> Option<Result<Vec<u8>, CipherError>> {
    let b64 = text.strip_prefix(SEALED_TEXT_PREFIX)?;
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| CipherError::Corrupt),
    )
}

impl SqlStore {
    /// Seals content with `keyring` from now on; also shreds on [`delete_tenant`].
    /// Set once, at start-up; later calls are ignored.
    ///
    /// [`delete_tenant`]: gateway_core::store::TenantStore::delete_tenant
    pub fn set_keyring(&self, keyring: Arc<Keyring>) {
        let _ = self.keyring.set(keyring);
    }

    pub fn keyring(&self) -> Option<&Arc<Keyring>> {
        self.keyring.get()
    }

    /// `text` sealed for `tenant` / `record` when a keyring is set, else as it is.
    pub(crate) async fn seal_text(
        &self,
        tenant: &TenantId,
        record: &str,
        text: &str,
    ) -> Result<String, StoreError> {
        match self.keyring.get() {
            Some(k) => Ok(to_text(&k.seal(tenant, record, text.as_bytes()).await?)),
            None => Ok(text.to_owned()),
        }
    }

    /// The plaintext of a stored text column (sealed or not).
    pub(crate) async fn open_text(
        &self,
        tenant: &TenantId,
        record: &str,
        text: String,
    ) -> Result<String, StoreError> {
        let Some(sealed) = from_text(&text) else {
            return Ok(text);
        };
        let keyring = self
            .keyring
            .get()
            .ok_or(StoreError::Cipher(CipherError::Kms(
                "sealed content but no keyring configured".to_owned(),
            )))?;
        let plain = keyring.open(tenant, record, &sealed?).await?;
        String::from_utf8(plain).map_err(|_| StoreError::Cipher(CipherError::Corrupt))
    }

    pub(crate) async fn open_opt_text(
        &self,
        tenant: &TenantId,
        record: &str,
        text: Option<String>,
    ) -> Result<Option<String>, StoreError> {
        match text {
            Some(t) => Ok(Some(self.open_text(tenant, record, t).await?)),
            None => Ok(None),
        }
    }
}
