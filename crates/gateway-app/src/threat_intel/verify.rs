//! Verifying a feed before use: its SHA-256 against a configured pin, and/or a detached
//! Ed25519 signature (base64 of the 64 signature bytes) against a configured public key.
//! Ed25519 comes from `aws-lc-rs`, the crypto provider the gateway's TLS already uses (the
//! edge profile's signed tenants file is checked the same way): no new crate, and an
//! operator signs a feed with any Ed25519 tool (`openssl pkeyutl -sign -rawin`, or
//! `llm-gateway`'s own key format).

use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

/// Most bytes of a signature file.
pub const MAX_SIGNATURE_BYTES: u64 = 1024;

/// The 32 bytes of an Ed25519 public key, from base64.
pub fn public_key(text: &str) -> Result<[u8; 32], String> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|_| "the public key is not base64".to_owned())?;
    bytes
        .try_into()
        .map_err(|_| "an Ed25519 public key is 32 bytes".to_owned())
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks `content` against the pin, when there is one.
pub fn check_pin(content: &[u8], pin: Option<&str>) -> Result<(), String> {
    match pin {
        Some(pin) if !sha256_hex(content).eq_ignore_ascii_case(pin.trim()) => {
            Err("the content's SHA-256 differs from the configured sha256".to_owned())
        }
        _ => Ok(()),
    }
}

/// Checks a detached base64 signature of `content` by `key` (base64).
pub fn check_signature(content: &[u8], signature: &[u8], key: &str) -> Result<(), String> {
    let key = public_key(key)?;
    let text =
        std::str::from_utf8(signature).map_err(|_| "the signature is not text".to_owned())?;
    let signature = B64
        .decode(text.trim())
        .map_err(|_| "the signature is not base64".to_owned())?;
    UnparsedPublicKey::new(&ED25519, key)
        .verify(content, &signature)
        .map_err(|_| "the signature does not verify with the configured public_key".to_owned())
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};

    use super::*;

    #[test]
    fn pins_and_signatures() {
        let content = b"198.51.100.0/24\n";
        assert_eq!(check_pin(content, None), Ok(()));
        let pin = sha256_hex(content);
        assert_eq!(check_pin(content, Some(&pin.to_uppercase())), Ok(()));
        assert!(check_pin(b"203.0.113.0/24\n", Some(&pin)).is_err());

        let pair = Ed25519KeyPair::generate().expect("a key");
        let key = B64.encode(pair.public_key().as_ref());
        let signature = B64.encode(pair.sign(content).as_ref());
        assert_eq!(check_signature(content, signature.as_bytes(), &key), Ok(()));
        assert!(check_signature(b"tampered", signature.as_bytes(), &key).is_err());
        assert!(check_signature(content, b"not base64!", &key).is_err());
        assert!(check_signature(content, signature.as_bytes(), "AAAA").is_err());
        let other = Ed25519KeyPair::generate().expect("a key");
        let other_key = B64.encode(other.public_key().as_ref());
        assert!(check_signature(content, signature.as_bytes(), &other_key).is_err());
    }
}
