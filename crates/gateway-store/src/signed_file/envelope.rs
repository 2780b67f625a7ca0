//! The signed envelope: `{"format", "payload", "signature"}` where `payload` is the JSON
//! document in base64 and `signature` the Ed25519 signature of exactly those payload bytes
//! (no canonicalisation to get wrong). Signing keys are PKCS#8 PEM files, interchangeable
//! with `openssl genpkey -algorithm ed25519`; the public key travels as base64 of its 32 bytes.

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::SignedFileError;
use super::document::EdgeDocument;

/// The `format` of every envelope this version writes and reads.
pub const FORMAT: &str = "llm-gateway-edge/v1";
/// Larger files are refused before parsing (a million keys fit in far less).
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: String,
    payload: String,
    signature: String,
}

/// A verifying key: the 32 bytes of an Ed25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

impl PublicKey {
    /// From base64 (standard alphabet) of the 32 key bytes.
    pub fn from_base64(text: &str) -> Result<Self, SignedFileError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| SignedFileError::PublicKey("not base64".to_owned()))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            SignedFileError::PublicKey("an Ed25519 public key is 32 bytes".to_owned())
        })?;
        Ok(PublicKey(bytes))
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }
}

/// A signing key (the operator's; never on the gateway).
pub struct SigningKey(Ed25519KeyPair);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public {})", self.public_key().to_base64())
    }
}

impl SigningKey {
    pub fn generate() -> Result<Self, SignedFileError> {
        Ed25519KeyPair::generate()
            .map(SigningKey)
            .map_err(|_| SignedFileError::SigningKey("cannot generate a key".to_owned()))
    }

    /// From a `-----BEGIN PRIVATE KEY-----` PEM (PKCS#8 v1 or v2).
    pub fn from_pem(pem: &str) -> Result<Self, SignedFileError> {
        use rustls_pki_types::PrivatePkcs8KeyDer;
        use rustls_pki_types::pem::PemObject;
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|_| SignedFileError::SigningKey("not a PKCS#8 PEM private key".to_owned()))?;
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(der.secret_pkcs8_der())
            .map(SigningKey)
            .map_err(|_| SignedFileError::SigningKey("not an Ed25519 private key".to_owned()))
    }

    /// PKCS#8 v1 PEM, as `openssl genpkey -algorithm ed25519` writes it.
    pub fn to_pem(&self) -> Result<String, SignedFileError> {
        let der = self
            .0
            .to_pkcs8v1()
            .map_err(|_| SignedFileError::SigningKey("cannot encode the key".to_owned()))?;
        let body = B64.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Ok(pem)
    }

    pub fn public_key(&self) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.0.public_key().as_ref());
        PublicKey(bytes)
    }

    /// The envelope (JSON text) carrying `document`, signed.
    pub fn sign(&self, document: &EdgeDocument) -> Result<String, SignedFileError> {
        let payload = serde_json::to_vec(document)
            .map_err(|e| SignedFileError::Invalid(format!("cannot encode: {e}")))?;
        let signature = self.0.sign(&payload);
        let envelope = Envelope {
            format: FORMAT.to_owned(),
            payload: B64.encode(&payload),
            signature: B64.encode(signature.as_ref()),
        };
        let mut text = serde_json::to_string_pretty(&envelope)
            .map_err(|e| SignedFileError::Invalid(format!("cannot encode: {e}")))?;
        text.push('\n');
        Ok(text)
    }
}

/// The document inside `file`, if `key` signed exactly its payload; nothing in an unsigned
/// or altered file is read beyond the envelope.
pub fn verify(file: &[u8], key: &PublicKey) -> Result<EdgeDocument, SignedFileError> {
    if file.len() > MAX_FILE_BYTES {
        return Err(SignedFileError::Invalid(format!(
            "larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    let envelope: Envelope = serde_json::from_slice(file).map_err(|_| {
        SignedFileError::Unsigned(
            "not a signed envelope {\"format\", \"payload\", \"signature\"}; sign the file with `llm-gateway edge sign`".to_owned(),
        )
    })?;
    if envelope.format != FORMAT {
        return Err(SignedFileError::Unsigned(format!(
            "format '{}' is not {FORMAT}",
            envelope.format
        )));
    }
    let payload = B64
        .decode(envelope.payload.as_bytes())
        .map_err(|_| SignedFileError::BadSignature)?;
    let signature = B64
        .decode(envelope.signature.as_bytes())
        .map_err(|_| SignedFileError::BadSignature)?;
    UnparsedPublicKey::new(&ED25519, &key.0)
        .verify(&payload, &signature)
        .map_err(|_| SignedFileError::BadSignature)?;
    serde_json::from_slice(&payload).map_err(|e| SignedFileError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(serial: u64) -> EdgeDocument {
        EdgeDocument {
            serial,
            tenants: Vec::new(),
        }
    }

    #[test]
    fn a_signed_document_verifies_and_round_trips() {
        let key = SigningKey::generate().unwrap();
        let file = key.sign(&doc(3)).unwrap();
        assert_eq!(verify(file.as_bytes(), &key.public_key()).unwrap(), doc(3));
        // The PEM form signs the same way (a key written by keygen and read by sign).
        let again = SigningKey::from_pem(&key.to_pem().unwrap()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
    }

    #[test]
    fn another_key_a_changed_payload_or_no_envelope_is_refused() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let file = key.sign(&doc(3)).unwrap();
        assert!(matches!(
            verify(file.as_bytes(), &other.public_key()),
            Err(SignedFileError::BadSignature)
        ));
        let mut envelope: Envelope = serde_json::from_str(&file).unwrap();
        envelope.payload = B64.encode(serde_json::to_vec(&doc(4)).unwrap());
        let tampered = serde_json::to_vec(&envelope).unwrap();
        assert!(matches!(
            verify(&tampered, &key.public_key()),
            Err(SignedFileError::BadSignature)
        ));
        let plain = serde_json::to_vec(&doc(3)).unwrap();
        assert!(matches!(
            verify(&plain, &key.public_key()),
            Err(SignedFileError::Unsigned(_))
        ));
    }

    #[test]
    fn public_keys_must_be_32_bytes_of_base64() {
        assert!(PublicKey::from_base64("not base64!").is_err());
        assert!(PublicKey::from_base64(&B64.encode([1u8; 31])).is_err());
        let k = PublicKey::from_base64(&B64.encode([1u8; 32])).unwrap();
        assert_eq!(PublicKey::from_base64(&k.to_base64()).unwrap(), k);
    }
}
