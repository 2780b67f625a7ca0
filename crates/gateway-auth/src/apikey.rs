//! Gateway-issued API keys: `sk-gw-` followed by 43 base62 characters (256 random bits).
//! The secret is shown once at creation; only its hash is stored. Keys are random 256-bit
//! secrets, so a fast keyed hash (HMAC-SHA256 with a server pepper, or SHA-256 without one)
//! is the right tool: there is nothing to brute-force that a slow hash would protect.

use gateway_core::Secret;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The readable prefix of every gateway key.
pub const KEY_PREFIX: &str = "sk-gw-";
/// Base62 digits of 32 random bytes: 62^43 > 2^256.
const BODY_LEN: usize = 43;
/// Characters of the body kept in [`GeneratedKey::display_prefix`].
const DISPLAY_CHARS: usize = 4;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The hash of a key's secret: what the store keeps and what lookups use.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Compares with a stored hex hash in constant time.
    pub fn matches_hex(&self, stored: &str) -> bool {
        let mut other = [0u8; 32];
        hex::decode_to_slice(stored, &mut other).is_ok() && bool::from(self.0.ct_eq(&other))
    }
}

impl std::fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyHash({}…)", &self.to_hex()[..8])
    }
}

/// A freshly generated key. `secret` is to be shown to its owner once and then forgotten.
#[derive(Debug)]
pub struct GeneratedKey {
    pub secret: Secret<String>,
    /// `sk-gw-` and the first characters of the body, for display (`sk-gw-AbC1`).
    pub display_prefix: String,
    pub hash: KeyHash,
}

/// Generates and hashes keys. Changing the pepper invalidates every issued key.
#[derive(Clone)]
pub struct ApiKeys {
    pepper: Option<Secret<Vec<u8>>>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("peppered", &self.pepper.is_some())
            .finish()
    }
}

impl ApiKeys {
    /// `pepper`: a server-side secret mixed into every hash (recommended; from `${VAR}`).
    pub fn new(pepper: Option<&Secret<String>>) -> Self {
        let pepper = pepper
            .filter(|p| !p.expose().is_empty())
            .map(|p| Secret::new(p.expose().as_bytes().to_vec()));
        ApiKeys { pepper }
    }

    pub fn generate(&self) -> GeneratedKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{KEY_PREFIX}{}", base62_32(&bytes));
        let hash = self.hash(&secret);
        let display_prefix = secret[..KEY_PREFIX.len() + DISPLAY_CHARS].to_owned();
        GeneratedKey {
            secret: Secret::new(secret),
            display_prefix,
            hash,
        }
    }

    pub fn hash(&self, token: &str) -> KeyHash {
        let digest: [u8; 32] = match &self.pepper {
            Some(pepper) => match Hmac::<Sha256>::new_from_slice(pepper.expose()) {
                Ok(mut mac) => {
                    mac.update(token.as_bytes());
                    mac.finalize().into_bytes().into()
                }
                // HMAC accepts keys of any length; unreachable, but never fall back silently.
                Err(_) => Sha256::digest([b"unkeyed:", token.as_bytes()].concat()).into(),
            },
            None => Sha256::digest(token.as_bytes()).into(),
        };
        KeyHash(digest)
    }

    /// Whether `token` has the exact shape of a gateway key (checked before any lookup).
    pub fn is_well_formed(token: &str) -> bool {
        token.strip_prefix(KEY_PREFIX).is_some_and(|body| {
            body.len() == BODY_LEN && body.bytes().all(|b| b.is_ascii_alphanumeric())
        })
    }
}

/// 32 bytes as exactly 43 base62 digits (big-endian, zero-padded).
fn base62_32(bytes: &[u8; 32]) -> String {
    let mut num = *bytes;
    let mut digits = [b'0'; BODY_LEN];
    for slot in digits.iter_mut().rev() {
        let mut rem: u32 = 0;
        for byte in num.iter_mut() {
            let acc = (rem << 8) | u32::from(*byte);
            *byte = u8::try_from(acc / 62).unwrap_or(0);
            rem = acc % 62;
        }
        *slot = ALPHABET[rem as usize];
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_unique_and_hash_consistently() {
        let keys = ApiKeys::new(None);
        let a = keys.generate();
        let b = keys.generate();
        assert!(
            ApiKeys::is_well_formed(a.secret.expose()),
            "{}",
            a.secret.expose()
        );
        assert_ne!(a.secret.expose(), b.secret.expose());
        assert_eq!(keys.hash(a.secret.expose()), a.hash);
        assert!(a.secret.expose().starts_with(&a.display_prefix));
        assert_eq!(a.display_prefix.len(), 10);
        assert!(!format!("{a:?}").contains(a.secret.expose()));
    }

    #[test]
    fn pepper_changes_the_hash_and_plain_hash_is_sha256() {
        let token = "sk-gw-0000000000000000000000000000000000000000000";
        let plain = ApiKeys::new(None).hash(token);
        assert_eq!(plain.0, <[u8; 32]>::from(Sha256::digest(token.as_bytes())));
        let peppered = ApiKeys::new(Some(&Secret::new("pepper".to_owned()))).hash(token);
        assert_ne!(plain, peppered);
        assert!(peppered.matches_hex(&peppered.to_hex()));
        assert!(!peppered.matches_hex(&plain.to_hex()));
        assert!(!peppered.matches_hex("not hex"));
    }

    #[test]
    fn base62_edges() {
        assert_eq!(base62_32(&[0; 32]), "0".repeat(43));
        // 2^256 - 1, cross-checked with Python's arbitrary-precision integers.
        assert_eq!(
            base62_32(&[0xff; 32]),
            "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1"
        );
        let mut one = [0u8; 32];
        one[31] = 61;
        assert!(base62_32(&one).ends_with('z'));
    }

    #[test]
    fn shape_check() {
        assert!(!ApiKeys::is_well_formed("sk-gw-short"));
        assert!(!ApiKeys::is_well_formed(
            "sk-xx-0000000000000000000000000000000000000000000"
        ));
        assert!(!ApiKeys::is_well_formed(
            "sk-gw-000000000000000000000000000000000000000000-"
        ));
    }
}
