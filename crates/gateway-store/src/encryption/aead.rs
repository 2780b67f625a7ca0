//! AES-256-GCM with random 96-bit nonces (aws-lc-rs, the crypto library rustls already
//! uses): `nonce || ciphertext || tag`.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use gateway_core::encryption::CipherError;

/// Bytes of a key.
pub const KEY_LEN: usize = 32;
/// Bytes added to a plaintext: nonce and tag.
pub const OVERHEAD: usize = NONCE_LEN + 16;

/// A 256-bit AEAD key. Never printed.
pub struct AeadKey(RandomizedNonceKey);

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeadKey(..)")
    }
}

impl AeadKey {
    pub fn new(bytes: &[u8]) -> Result<Self, CipherError> {
        if bytes.len() != KEY_LEN {
            return Err(CipherError::Kms(format!("a key must be {KEY_LEN} bytes")));
        }
        RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map(AeadKey)
            .map_err(|_| CipherError::Kms("key rejected".to_owned()))
    }

    /// Appends `nonce || ciphertext || tag` of `plaintext` to `out`.
    pub fn seal_into(
        &self,
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CipherError> {
        let mut body = Vec::with_capacity(plaintext.len() + 16);
        body.extend_from_slice(plaintext);
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(aad), &mut body)
            .map_err(|_| CipherError::Kms("encryption failed".to_owned()))?;
        out.reserve(NONCE_LEN + body.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&body);
        Ok(())
    }

    /// Opens what [`AeadKey::seal_into`] wrote.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() < OVERHEAD {
            return Err(CipherError::Corrupt);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CipherError::Corrupt)?;
        let mut body = body.to_vec();
        let len = self
            .0
            .open_in_place(nonce, Aad::from(aad), &mut body)
            .map_err(|_| CipherError::Corrupt)?
            .len();
        body.truncate(len);
        Ok(body)
    }
}

/// `n` random bytes from the system's CSPRNG.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, CipherError> {
    let mut v = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut v).map_err(|_| CipherError::Kms("no randomness".to_owned()))?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_aad_binding() {
        let key = AeadKey::new(&[7u8; 32]).unwrap();
        let mut sealed = Vec::new();
        key.seal_into(b"ctx-a", b"hello", &mut sealed).unwrap();
        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(key.open(b"ctx-a", &sealed).unwrap(), b"hello");
        assert_eq!(key.open(b"ctx-b", &sealed), Err(CipherError::Corrupt));
        let mut flipped = sealed.clone();
        flipped[NONCE_LEN] ^= 1;
        assert_eq!(key.open(b"ctx-a", &flipped), Err(CipherError::Corrupt));
        let other = AeadKey::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open(b"ctx-a", &sealed), Err(CipherError::Corrupt));
        assert!(AeadKey::new(&[0u8; 16]).is_err());
    }

    #[test]
    fn nonces_differ() {
        let key = AeadKey::new(&[7u8; 32]).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        key.seal_into(b"", b"same", &mut a).unwrap();
        key.seal_into(b"", b"same", &mut b).unwrap();
        assert_ne!(a, b);
    }
}
