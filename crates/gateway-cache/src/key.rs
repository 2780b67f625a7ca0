//! Cache keys: SHA-256 over the tenant, the model group and a canonical encoding of the request
//! fields that change the answer. Credentials never enter a key; fields that only change how
//! the answer is delivered (`stream`, `stream_options`) or who asked (`user`) never do either.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use gateway_core::{ChatRequest, TenantId};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical::write_canonical;

/// Bumped whenever the encoding changes, so old entries can never be served for new keys.
const DOMAIN: &[u8] = b"llm-gateway/cache-key/v1\0";

/// Top-level request fields that never change the answer (or are the model group itself).
const NOT_ANSWER_AFFECTING: &[&str] = &[
    "model",
    "stream",
    "stream_options",
    "user",
    "metadata",
    "store",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
];

/// A cache key: who may read the entry (tenant), which model group it belongs to (both in clear
/// so that invalidation by tenant or model needs no index) and the request hash, which also
/// commits to both.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub tenant: TenantId,
    pub model_group: Arc<str>,
    pub hash: [u8; 32],
}

impl Key {
    /// Derive the key of `req` for `tenant` on `model_group` (the public model name).
    pub fn derive(tenant: &TenantId, model_group: &str, req: &ChatRequest) -> Key {
        Key {
            tenant: tenant.clone(),
            model_group: Arc::from(model_group),
            hash: request_hash(tenant, model_group, req),
        }
    }

    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
}

// The hash commits to tenant and model group, so hashing it alone is consistent with `Eq`.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.hash.hash(state);
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Key({}/{}/{})",
            self.tenant,
            self.model_group,
            &self.hash_hex()[..16]
        )
    }
}

fn request_hash(tenant: &TenantId, model_group: &str, req: &ChatRequest) -> [u8; 32] {
    let mut hasher = HashWriter(Sha256::new());
    hasher.0.update(DOMAIN);
    hasher.field(tenant.as_str().as_bytes());
    hasher.field(model_group.as_bytes());
    match serde_json::to_value(req) {
        Ok(Value::Object(mut fields)) => {
            fields.retain(|name, _| answer_affecting(name));
            write_canonical(&mut hasher, &Value::Object(fields));
        }
        // Serialising a ChatRequest cannot fail or yield a non-object; should it ever, fall
        // back to its debug form, which still distinguishes different requests.
        _ => hasher.0.update(format!("{req:?}").as_bytes()),
    }
    hasher.0.finalize().into()
}

fn answer_affecting(name: &str) -> bool {
    !NOT_ANSWER_AFFECTING.contains(&name) && !credential_like(name)
}

/// Body fields some clients use to pass upstream credentials (LiteLLM-style `api_key`,
/// `aws_secret_access_key`, `azure_ad_token`...). They must never become part of a key.
fn credential_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('-', "_");
    n.contains("api_key")
        || n.contains("apikey")
        || n.contains("secret")
        || n.contains("password")
        || n.contains("credential")
        || n.contains("authorization")
        || n.ends_with("_token")
        || n == "token"
}

/// Length-prefixed fields into SHA-256, so that ("ab","c") and ("a","bc") differ.
struct HashWriter(Sha256);

impl HashWriter {
    fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }
}

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::{Message, Role};
    use serde_json::json;

    fn request(body: Value) -> ChatRequest {
        serde_json::from_value(body).unwrap()
    }

    fn base() -> Value {
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
               "temperature": 0, "x_vendor": {"b": 1, "a": [1, 2]}, "y_opt": true})
    }

    fn key_of(tenant: &str, body: Value) -> [u8; 32] {
        Key::derive(&TenantId::new(tenant), "gpt-4o", &request(body)).hash
    }

    #[test]
    fn extra_field_order_does_not_change_the_key() {
        let reordered = json!({"y_opt": true, "x_vendor": {"a": [1, 2], "b": 1},
            "temperature": 0, "messages": [{"content": "hi", "role": "user"}], "model": "gpt-4o"});
        assert_eq!(key_of("t1", base()), key_of("t1", reordered));
    }

    #[test]
    fn tenant_and_model_group_are_part_of_the_key() {
        assert_ne!(key_of("t1", base()), key_of("t2", base()));
        let req = request(base());
        let t = TenantId::new("t1");
        assert_ne!(
            Key::derive(&t, "gpt-4o", &req).hash,
            Key::derive(&t, "gpt-4o-mini", &req).hash
        );
        // Length prefixes: moving a character between tenant and group changes the key.
        assert_ne!(
            Key::derive(&TenantId::new("ab"), "c", &req).hash,
            Key::derive(&TenantId::new("a"), "bc", &req).hash
        );
    }

    #[test]
    fn delivery_and_identity_fields_do_not_change_the_key() {
        let mut streamed = base();
        streamed["stream"] = json!(true);
        streamed["stream_options"] = json!({"include_usage": true});
        streamed["user"] = json!("alice");
        streamed["api_key"] = json!("sk-secret");
        streamed["aws_secret_access_key"] = json!("x");
        streamed["azure_ad_token"] = json!("y");
        streamed["metadata"] = json!({"trace": "1"});
        assert_eq!(key_of("t1", base()), key_of("t1", streamed));
        // The public model name in the body is the model group: passed separately.
        let mut renamed = base();
        renamed["model"] = json!("alias");
        assert_eq!(key_of("t1", base()), key_of("t1", renamed));
    }

    #[test]
    fn answer_affecting_fields_change_the_key() {
        let original = key_of("t1", base());
        let changes = [
            ("temperature", json!(0.5)),
            ("top_p", json!(0.9)),
            ("n", json!(2)),
            ("stop", json!(["\n"])),
            ("max_tokens", json!(10)),
            ("max_completion_tokens", json!(10)),
            ("seed", json!(7)),
            ("presence_penalty", json!(0.1)),
            ("frequency_penalty", json!(0.1)),
            ("logit_bias", json!({"50256": -100})),
            ("logprobs", json!(true)),
            ("top_logprobs", json!(2)),
            ("tool_choice", json!("none")),
            ("response_format", json!({"type": "json_object"})),
            (
                "tools",
                json!([{"type": "function", "function": {"name": "f"}}]),
            ),
            ("x_vendor", json!({"b": 2, "a": [1, 2]})),
            ("reasoning_effort", json!("high")),
        ];
        for (field, value) in changes {
            let mut changed = base();
            changed[field] = value;
            assert_ne!(original, key_of("t1", changed), "{field}");
        }
        let mut other_message = base();
        other_message["messages"][0]["content"] = json!("hello");
        assert_ne!(original, key_of("t1", other_message));
    }

    #[test]
    fn rich_key_names_tenant_and_model_and_hides_the_rest() {
        let mut req = ChatRequest::default();
        req.messages.push(Message::text(Role::User, "hi"));
        let tenant = TenantId::new("acme");
        let key = Key::derive(&tenant, "gpt-4o", &req);
        assert_eq!(key.tenant, tenant);
        assert_eq!(&*key.model_group, "gpt-4o");
        assert_eq!(key.hash_hex().len(), 64);
        assert!(format!("{key:?}").starts_with("Key(acme/gpt-4o/"));
    }
}
