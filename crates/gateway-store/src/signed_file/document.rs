//! The signed document's content: tenants and their hashed API keys, as the operator writes
//! them (TOML, for `llm-gateway edge sign`) and as they travel inside the envelope (JSON).

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use gateway_core::store::{ApiKeyRecord, Limits, Tenant, from_unix_millis};
use gateway_core::{GatewayRole, TenantId};
use serde::{Deserialize, Serialize};

use super::SignedFileError;

/// Every tenant and key an edge gateway knows. `serial` only ever grows: a running gateway
/// refuses a file older than the one it serves (an old, validly signed file would bring
/// revoked keys back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeDocument {
    pub serial: u64,
    #[serde(default)]
    pub tenants: Vec<TenantEntry>,
}

/// One tenant and its keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantEntry {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_models: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_regions: Option<Vec<String>>,
    /// CIDR blocks the tenant's callers may call from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_networks: Option<Vec<String>>,
    /// Threat-intelligence feeds are not applied to this tenant.
    #[serde(default)]
    pub threat_intel_opt_out: bool,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub keys: Vec<KeyEntry>,
}

/// One API key, by the hash of its secret (`llm-gateway edge new-key` prints both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The first characters of the secret, for display.
    #[serde(default)]
    pub prefix: String,
    /// Lowercase hex of the keyed hash of the secret (with the gateway's `auth.pepper`).
    pub hash: String,
    /// Role names (`developer`, `viewer`, ...); default `developer`.
    #[serde(default = "developer")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_models: Option<Vec<String>>,
    /// CIDR blocks the key may be used from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_networks: Option<Vec<String>>,
    #[serde(default)]
    pub limits: Limits,
    /// Unix seconds after which the key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// An allow-list of client networks, each entry checked and normalised.
fn checked_networks(
    owner: &str,
    list: Option<Vec<String>>,
) -> Result<Option<Vec<String>>, SignedFileError> {
    list.map(|l| gateway_core::client_networks::normalize_networks(&l))
        .transpose()
        .map_err(|e| SignedFileError::Invalid(format!("'{owner}': allowed_networks: {e}")))
}

fn yes() -> bool {
    true
}

fn developer() -> Vec<String> {
    vec!["developer".to_owned()]
}

/// The document as lookup tables, ready to serve.
#[derive(Debug, Default)]
pub(crate) struct Contents {
    pub(crate) serial: u64,
    pub(crate) tenants: HashMap<TenantId, Tenant>,
    /// By id.
    pub(crate) keys: HashMap<String, ApiKeyRecord>,
    /// Key id by hash.
    pub(crate) by_hash: HashMap<String, String>,
}

impl EdgeDocument {
    /// Every problem a gateway would refuse the document for, found before signing.
    pub fn check(&self) -> Result<(), SignedFileError> {
        self.clone().into_contents(SystemTime::now()).map(|_| ())
    }

    /// Number of keys over all tenants.
    pub fn key_count(&self) -> usize {
        self.tenants.iter().map(|t| t.keys.len()).sum()
    }

    /// Checks every entry (unique ids and hashes, well-formed hashes, known roles) and builds
    /// the lookup tables; `issued` stands for every record's creation time.
    pub(crate) fn into_contents(self, issued: SystemTime) -> Result<Contents, SignedFileError> {
        let invalid = |what: String| Err(SignedFileError::Invalid(what));
        let mut contents = Contents {
            serial: self.serial,
            ..Contents::default()
        };
        let mut key_ids = HashSet::new();
        for t in self.tenants {
            if t.id.is_empty() {
                return invalid("a tenant has an empty id".to_owned());
            }
            let id = TenantId::new(&t.id);
            for k in t.keys {
                if !key_ids.insert(k.id.clone()) || k.id.is_empty() {
                    return invalid(format!("key id '{}' is empty or repeated", k.id));
                }
                let hash = k.hash.to_ascii_lowercase();
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return invalid(format!("key '{}': hash must be 64 hex digits", k.id));
                }
                let mut roles = Vec::with_capacity(k.roles.len());
                for r in &k.roles {
                    match GatewayRole::parse(r) {
                        Some(role) => roles.push(role),
                        None => return invalid(format!("key '{}': unknown role '{r}'", k.id)),
                    }
                }
                if contents
                    .by_hash
                    .insert(hash.clone(), k.id.clone())
                    .is_some()
                {
                    return invalid(format!("key '{}': the same hash appears twice", k.id));
                }
                let record = ApiKeyRecord {
                    id: k.id.clone(),
                    tenant: id.clone(),
                    name: k.name.unwrap_or_else(|| k.id.clone()),
                    prefix: k.prefix,
                    hash,
                    roles,
                    allowed_networks: checked_networks(&k.id, k.allowed_networks)?,
                    allowed_models: k.allowed_models,
                    limits: k.limits,
                    expires_at: k.expires_at.map(|s| {
                        from_unix_millis(i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX))
                    }),
                    metadata: serde_json::Value::Null,
                    enabled: k.enabled,
                    created_at: issued,
                    last_used_at: None,
                    revoked_at: None,
                };
                contents.keys.insert(k.id, record);
            }
            let tenant = Tenant {
                id: id.clone(),
                name: t.name.unwrap_or_else(|| t.id.clone()),
                enabled: t.enabled,
                allowed_models: t.allowed_models,
                allowed_regions: t.allowed_regions,
                allowed_networks: checked_networks(&t.id, t.allowed_networks)?,
                threat_intel_opt_out: t.threat_intel_opt_out,
                limits: t.limits,
                created_at: issued,
            };
            if contents.tenants.insert(id, tenant).is_some() {
                return invalid(format!("tenant '{}' appears twice", t.id));
            }
        }
        Ok(contents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, hash: &str) -> KeyEntry {
        KeyEntry {
            id: id.into(),
            name: None,
            prefix: String::new(),
            hash: hash.into(),
            roles: developer(),
            allowed_models: None,
            allowed_networks: None,
            limits: Limits::default(),
            expires_at: None,
            enabled: true,
        }
    }

    fn doc(keys: Vec<KeyEntry>) -> EdgeDocument {
        EdgeDocument {
            serial: 1,
            tenants: vec![TenantEntry {
                id: "t".into(),
                name: None,
                enabled: true,
                allowed_models: None,
                allowed_regions: None,
                allowed_networks: None,
                threat_intel_opt_out: false,
                limits: Limits::default(),
                keys,
            }],
        }
    }

    #[test]
    fn repeated_ids_hashes_and_bad_roles_are_refused() {
        let h = "ab".repeat(32);
        let now = SystemTime::now();
        assert!(doc(vec![key("a", &h)]).into_contents(now).is_ok());
        assert!(
            doc(vec![key("a", &h), key("a", &"cd".repeat(32))])
                .into_contents(now)
                .is_err()
        );
        assert!(
            doc(vec![key("a", &h), key("b", &h)])
                .into_contents(now)
                .is_err()
        );
        assert!(doc(vec![key("a", "abc")]).into_contents(now).is_err());
        let mut bad_role = key("a", &h);
        bad_role.roles = vec!["root".into()];
        assert!(doc(vec![bad_role]).into_contents(now).is_err());
    }

    #[test]
    fn toml_source_reads_with_defaults() {
        let d: EdgeDocument = toml::from_str(&format!(
            "serial = 2\n[[tenants]]\nid = \"acme\"\nlimits = {{ rpm = 5 }}\n\
             [[tenants.keys]]\nid = \"k1\"\nhash = \"{}\"\n",
            "0".repeat(64)
        ))
        .unwrap();
        let c = d.into_contents(SystemTime::now()).unwrap();
        assert_eq!(c.tenants[&TenantId::new("acme")].limits.rpm, Some(5));
        assert_eq!(c.keys["k1"].roles, vec![GatewayRole::Developer]);
    }
}
