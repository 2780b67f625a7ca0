//! Signatures per the Standard Webhooks specification: the HMAC-SHA256, keyed by the
//! base64-decoded part of a `whsec_` secret, of `"{webhook-id}.{webhook-timestamp}.{body}"`,
//! sent as `v1,<base64>`; during a rotation one such entry per valid secret, separated by a
//! space, so a receiver holding either secret verifies the delivery.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: 32 random bytes, `whsec_` + base64.
pub fn new_secret() -> String {
    let key: [u8; 32] = rand::random();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The HMAC key of a `whsec_...` secret (the prefix is optional, as receivers' libraries
/// accept it either way); `None` when the rest is not base64 or shorter than 24 bytes.
pub fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD.decode(encoded).ok()?;
    (key.len() >= 24).then_some(key)
}

/// One `v1,<base64>` entry for `key`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header value: one entry per secret, space-separated. Secrets that
/// do not decode are skipped (they cannot be stored: the admin API generates them).
pub fn signature_header(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|s| decode_secret(s))
        .filter_map(|key| sign(&key, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `header` holds a valid `v1` signature of the delivery by `secret`, compared in
/// constant time (what a receiver does; the tests' receiver uses it).
pub fn verify(secret: &str, header: &str, id: &str, timestamp: i64, body: &str) -> bool {
    let Some(expected) = decode_secret(secret).and_then(|k| sign(&k, id, timestamp, body)) else {
        return false;
    };
    header
        .split(' ')
        .any(|entry| subtle::ConstantTimeEq::ct_eq(entry.as_bytes(), expected.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The published example of the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_specification_example_signs_as_published() {
        assert_eq!(signature_header(&[SECRET], ID, TIMESTAMP, BODY), SIGNATURE);
        assert!(verify(SECRET, SIGNATURE, ID, TIMESTAMP, BODY));
        assert!(verify(
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            SIGNATURE,
            ID,
            TIMESTAMP,
            BODY
        ));
        assert!(!verify(SECRET, SIGNATURE, ID, TIMESTAMP + 1, BODY));
        assert!(!verify(
            SECRET,
            SIGNATURE,
            ID,
            TIMESTAMP,
            r#"{"test": 2432232315}"#
        ));
        assert!(!verify(SECRET, SIGNATURE, "msg_other", TIMESTAMP, BODY));
    }

    #[test]
    fn during_a_rotation_both_secrets_verify() {
        let new = new_secret();
        let header = signature_header(&[&new, SECRET], ID, TIMESTAMP, BODY);
        let entries: Vec<_> = header.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1], SIGNATURE);
        assert!(verify(&new, &header, ID, TIMESTAMP, BODY));
        assert!(verify(SECRET, &header, ID, TIMESTAMP, BODY));
        assert!(!verify(&new_secret(), &header, ID, TIMESTAMP, BODY));
    }

    #[test]
    fn secrets_are_random_and_decodable() {
        let a = new_secret();
        assert!(a.starts_with(SECRET_PREFIX));
        assert_eq!(decode_secret(&a).map(|k| k.len()), Some(32));
        assert_ne!(a, new_secret());
        assert_eq!(decode_secret("whsec_not base64!"), None);
        assert_eq!(decode_secret("whsec_c2hvcnQ="), None, "too short");
    }
}
