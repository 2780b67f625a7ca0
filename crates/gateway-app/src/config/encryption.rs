//! `[encryption]`: envelope encryption of stored content and the per-tenant pass-through
//! mode (see `docs/security.md`).
//!
//! ```toml
//! [encryption]
//! kek = "${GATEWAY_KEK}"        # 32 bytes, base64 or 64 hex digits: turns encryption on
//! kek_id = "local-1"            # the id stored next to every data key it wraps
//! retired_keks = { "local-0" = "${GATEWAY_OLD_KEK}" }   # still unwrap, never wrap
//! key_cache_ttl = "30s"         # how long an unwrapped data key is kept in memory
//! passthrough_tenants = ["acme"]  # content never stored, logged or cached for these
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use gateway_core::Secret;
use gateway_core::TenantId;
use serde::Deserialize;

use super::Problem;

/// Default `key_cache_ttl`: a key destroyed or added by another instance is seen within it.
pub const DEFAULT_KEY_CACHE_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncryptionConfig {
    /// The current key-encryption key; encryption is on when it is set.
    pub kek: Option<Secret<String>>,
    pub kek_id: String,
    /// Older KEKs by id: they unwrap data keys not yet re-wrapped, and never wrap.
    pub retired_keks: BTreeMap<String, Secret<String>>,
    #[serde(deserialize_with = "gateway_core::duration::deserialize")]
    pub key_cache_ttl: Duration,
    /// Tenants whose content is never stored, logged or cached (only metadata is kept).
    pub passthrough_tenants: Vec<String>,
}

impl Default for EncryptionConfig {
    fn default() -> Self {
        EncryptionConfig {
            kek: None,
            kek_id: "local-1".to_owned(),
            retired_keks: BTreeMap::new(),
            key_cache_ttl: DEFAULT_KEY_CACHE_TTL,
            passthrough_tenants: Vec::new(),
        }
    }
}

impl EncryptionConfig {
    pub fn enabled(&self) -> bool {
        self.kek.is_some()
    }

    /// Whether `tenant`'s content must not be kept anywhere.
    pub fn is_passthrough(&self, tenant: &TenantId) -> bool {
        self.passthrough_tenants
            .iter()
            .any(|t| t == tenant.as_str())
    }

    /// The local KEK this section describes, if encryption is on.
    pub fn key_wrapper(
        &self,
    ) -> Result<Option<Arc<gateway_store::LocalKek>>, gateway_core::encryption::CipherError> {
        let Some(kek) = &self.kek else {
            return Ok(None);
        };
        let current = gateway_store::LocalKek::decode_key(kek.expose())?;
        let mut retired = Vec::new();
        for (id, key) in &self.retired_keks {
            retired.push((
                id.as_str(),
                gateway_store::LocalKek::decode_key(key.expose())?,
            ));
        }
        let retired: Vec<(&str, &[u8])> = retired.iter().map(|(i, k)| (*i, k.as_slice())).collect();
        Ok(Some(Arc::new(gateway_store::LocalKek::new(
            (&self.kek_id, &current),
            &retired,
        )?)))
    }

    pub(crate) fn validate(&self, problems: &mut Vec<Problem>) {
        if let Some(kek) = &self.kek
            && gateway_store::LocalKek::decode_key(kek.expose()).is_err()
        {
            problems.push(Problem::new(
                "encryption.kek",
                "must be 32 bytes, as base64 or 64 hex digits",
            ));
        }
        for (id, key) in &self.retired_keks {
            if gateway_store::LocalKek::decode_key(key.expose()).is_err() {
                problems.push(Problem::new(
                    &format!("encryption.retired_keks.{id}"),
                    "must be 32 bytes, as base64 or 64 hex digits",
                ));
            }
            if *id == self.kek_id {
                problems.push(Problem::new(
                    &format!("encryption.retired_keks.{id}"),
                    "must not reuse the current kek_id",
                ));
            }
        }
        if self.kek_id.is_empty() {
            problems.push(Problem::new("encryption.kek_id", "must not be empty"));
        }
        if self.key_cache_ttl.is_zero() {
            problems.push(Problem::new(
                "encryption.key_cache_ttl",
                "must be greater than 0",
            ));
        }
        if self.kek.is_none() && !self.retired_keks.is_empty() {
            problems.push(Problem::new(
                "encryption.retired_keks",
                "needs a current encryption.kek",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> EncryptionConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn off_by_default_and_validates_keys() {
        let c = EncryptionConfig::default();
        assert!(!c.enabled());
        let mut problems = Vec::new();
        c.validate(&mut problems);
        assert!(problems.is_empty());

        let bad = parse("kek = \"short\"\nretired_keks = { \"local-1\" = \"x\" }");
        let mut problems = Vec::new();
        bad.validate(&mut problems);
        let keys: Vec<_> = problems.iter().map(|p| p.path.clone()).collect();
        assert!(keys.contains(&"encryption.kek".to_owned()), "{keys:?}");
        assert!(
            keys.contains(&"encryption.retired_keks.local-1".to_owned()),
            "{keys:?}"
        );
    }

    #[test]
    fn builds_a_wrapper_and_names_passthrough_tenants() {
        let hex = "11".repeat(32);
        let c = parse(&format!(
            "kek = \"{hex}\"\nkek_id = \"k2\"\nretired_keks = {{ k1 = \"{}\" }}\npassthrough_tenants = [\"zk\"]",
            "22".repeat(32)
        ));
        assert!(c.enabled());
        assert!(c.key_wrapper().unwrap().is_some());
        assert!(c.is_passthrough(&TenantId::new("zk")));
        assert!(!c.is_passthrough(&TenantId::new("other")));
        assert!(!format!("{c:?}").contains(&hex), "the KEK never prints");
    }
}
