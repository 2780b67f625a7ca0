//! [`LocalKek`]: the key-encryption keys held in the gateway's own config (`${VAR}` secrets),
//! the shipped [`KeyWrapper`]. A KMS plugs in behind the same trait.
//!
//! Rotation: configure a new current key and keep the old one as retired; data keys wrapped
//! under the old one still unwrap, and [`crate::Keyring::rewrap_all`] moves them to the
//! current one, after which the old key can be dropped from the config.

use std::collections::HashMap;

use async_trait::async_trait;
use base64::Engine as _;
use gateway_core::encryption::{CipherError, KeyWrapper};

use super::aead::{AeadKey, KEY_LEN};

/// KEKs by id, one of them current.
#[derive(Debug)]
pub struct LocalKek {
    current: String,
    keys: HashMap<String, AeadKey>,
}

impl LocalKek {
    /// `current` is `(id, key)`; `retired` are older keys kept to unwrap. Each key is 32 bytes.
    pub fn new(current: (&str, &[u8]), retired: &[(&str, &[u8])]) -> Result<Self, CipherError> {
        let mut keys = HashMap::new();
        for (id, bytes) in retired.iter().chain(std::iter::once(&current)) {
            if id.is_empty() {
                return Err(CipherError::Kms("a KEK id must not be empty".to_owned()));
            }
            keys.insert((*id).to_owned(), AeadKey::new(bytes)?);
        }
        Ok(LocalKek {
            current: current.0.to_owned(),
            keys,
        })
    }

    /// Decodes a key given in config: base64 (standard) of 32 bytes, or 64 hex digits.
    pub fn decode_key(text: &str) -> Result<Vec<u8>, CipherError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).ok()
        };
        match bytes {
            Some(b) if b.len() == KEY_LEN => Ok(b),
            _ => Err(CipherError::Kms(
                "a KEK must be 32 bytes, as base64 or 64 hex digits".to_owned(),
            )),
        }
    }

    fn aad(kek_id: &str, context: &str) -> Vec<u8> {
        format!("gw-dek\0{kek_id}\0{context}").into_bytes()
    }
}

#[async_trait]
impl KeyWrapper for LocalKek {
    fn current_kek(&self) -> &str {
        &self.current
    }

    async fn wrap(&self, context: &str, data_key: &[u8]) -> Result<(String, Vec<u8>), CipherError> {
        let key = &self.keys[&self.current];
        let mut out = Vec::new();
        key.seal_into(&Self::aad(&self.current, context), data_key, &mut out)?;
        Ok((self.current.clone(), out))
    }

    async fn unwrap(
        &self,
        kek_id: &str,
        context: &str,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, CipherError> {
        let key = self
            .keys
            .get(kek_id)
            .ok_or_else(|| CipherError::Kms(format!("KEK '{kek_id}' is not configured")))?;
        key.open(&Self::aad(kek_id, context), wrapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wraps_under_current_and_unwraps_retired() {
        let old = LocalKek::new(("k1", &[1u8; 32]), &[]).unwrap();
        let (id, wrapped) = old.wrap("t:1", &[9u8; 32]).await.unwrap();
        assert_eq!(id, "k1");
        let new = LocalKek::new(("k2", &[2u8; 32]), &[("k1", &[1u8; 32])]).unwrap();
        assert_eq!(
            new.unwrap("k1", "t:1", &wrapped).await.unwrap(),
            vec![9u8; 32]
        );
        assert_eq!(
            new.unwrap("k1", "t:2", &wrapped).await,
            Err(CipherError::Corrupt)
        );
        let (id2, _) = new.wrap("t:1", &[9u8; 32]).await.unwrap();
        assert_eq!(id2, "k2");
        let gone = LocalKek::new(("k2", &[2u8; 32]), &[]).unwrap();
        assert!(matches!(
            gone.unwrap("k1", "t:1", &wrapped).await,
            Err(CipherError::Kms(_))
        ));
    }

    #[test]
    fn decodes_base64_and_hex() {
        assert_eq!(
            LocalKek::decode_key(&"ab".repeat(32)).unwrap(),
            vec![0xab; 32]
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode([5u8; 32]);
        assert_eq!(LocalKek::decode_key(&b64).unwrap(), vec![5u8; 32]);
        assert!(LocalKek::decode_key("c2hvcnQ=").is_err());
    }
}
