//! The audit hash chain: what each record's hash covers.
//!
//! `hash = hex(SHA-256(J))` where `J` is the compact JSON array
//! `[seq, at_ms, tenant, actor, action, target, outcome, ip, details, prev_hash]`
//! (`tenant`, `target`, `ip` are `null` when absent; `details` is the stored JSON text, as a
//! string). JSON quoting makes the encoding unambiguous whatever the fields contain. The first
//! record's `prev_hash` is [`GENESIS_HASH`].

use serde_json::json;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The stored columns one record's hash covers.
#[derive(Debug, Clone, Copy)]
pub struct ChainFields<'a> {
    pub seq: i64,
    pub at_ms: i64,
    pub tenant: Option<&'a str>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub outcome: &'a str,
    pub ip: Option<&'a str>,
    /// The details JSON exactly as stored.
    pub details: &'a str,
    pub prev_hash: &'a str,
}

/// The hash of one record, lowercase hex.
pub fn chain_hash(f: &ChainFields<'_>) -> String {
    let preimage = json!([
        f.seq,
        f.at_ms,
        f.tenant,
        f.actor,
        f.action,
        f.target,
        f.outcome,
        f.ip,
        f.details,
        f.prev_hash
    ])
    .to_string();
    hex::encode(Sha256::digest(preimage.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(actor: &'a str, action: &'a str) -> ChainFields<'a> {
        ChainFields {
            seq: 1,
            at_ms: 1_700_000_000_000,
            tenant: Some("t"),
            actor,
            action,
            target: None,
            outcome: "success",
            ip: None,
            details: "{}",
            prev_hash: GENESIS_HASH,
        }
    }

    #[test]
    fn hash_is_stable_and_field_boundaries_matter() {
        let a = chain_hash(&fields("ab", "c"));
        assert_eq!(a, chain_hash(&fields("ab", "c")));
        assert_eq!(a.len(), 64);
        assert_ne!(a, chain_hash(&fields("a", "bc")));
    }
}
