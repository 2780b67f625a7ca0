//! What the cache stores and what an invalidation names.

use std::sync::Arc;

use gateway_core::phases::route::ServedBy;
use gateway_core::{ChatResponse, TenantId};
use serde::{Deserialize, Serialize};

use crate::error::CacheError;

/// A cached answer and the deployment that produced it, so that a hit can be priced: its
/// saved cost is what the original call cost at `provider` / `upstream_model`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedResponse {
    pub response: ChatResponse,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_model: Option<Arc<str>>,
}

impl CachedResponse {
    pub fn new(response: ChatResponse, served_by: Option<&ServedBy>) -> Self {
        CachedResponse {
            response,
            provider: served_by.map(|s| s.provider.clone()),
            upstream_model: served_by.map(|s| s.upstream_model.clone()),
        }
    }

    /// An answer whose origin is unknown (its saved cost cannot be priced).
    pub fn bare(response: ChatResponse) -> Self {
        CachedResponse {
            response,
            provider: None,
            upstream_model: None,
        }
    }

    /// Whether the answer is complete and fit to be served again: every choice finished, and
    /// not because a content filter stopped it.
    pub fn is_cacheable(&self) -> bool {
        !self.response.choices.is_empty()
            && self.response.choices.iter().all(|c| {
                c.finish_reason
                    .as_deref()
                    .is_some_and(|r| r != "content_filter")
            })
    }

    /// The stored form: a versioned JSON envelope.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, CacheError> {
        Ok(serde_json::to_vec(&StoredRef {
            v: FORMAT_VERSION,
            response: &self.response,
            provider: self.provider.as_deref(),
            upstream_model: self.upstream_model.as_deref(),
        })?)
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<CachedResponse, CacheError> {
        let stored: Stored = gateway_core::types::from_json_bytes(bytes)?;
        if stored.v != FORMAT_VERSION {
            return Err(CacheError::Format(format!(
                "cache entry format {} is not {FORMAT_VERSION}",
                stored.v
            )));
        }
        Ok(CachedResponse {
            response: stored.response,
            provider: stored.provider,
            upstream_model: stored.upstream_model,
        })
    }

    /// Bytes this entry occupies in the memory backend: its serialized size plus the key.
    pub(crate) fn weight(&self, key_len: usize) -> u32 {
        let mut counter = ByteCounter(0);
        let _ = serde_json::to_writer(&mut counter, self);
        u32::try_from(counter.0 + key_len + 64).unwrap_or(u32::MAX)
    }
}

const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct StoredRef<'a> {
    v: u32,
    response: &'a ChatResponse,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_model: Option<&'a str>,
}

#[derive(Deserialize)]
struct Stored {
    v: u32,
    response: ChatResponse,
    #[serde(default)]
    provider: Option<Arc<str>>,
    #[serde(default)]
    upstream_model: Option<Arc<str>>,
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Which entries an invalidation removes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum Invalidation {
    All,
    Tenant { tenant: String },
    Model { model: String },
}

impl Invalidation {
    pub fn tenant(tenant: &TenantId) -> Self {
        Invalidation::Tenant {
            tenant: tenant.as_str().to_owned(),
        }
    }

    pub fn model(model_group: impl Into<String>) -> Self {
        Invalidation::Model {
            model: model_group.into(),
        }
    }

    /// Whether an entry of this tenant and model group is removed.
    pub fn matches(&self, tenant: &TenantId, model_group: &str) -> bool {
        match self {
            Invalidation::All => true,
            Invalidation::Tenant { tenant: t } => tenant.as_str() == t,
            Invalidation::Model { model } => model_group == model,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::response;
    use serde_json::json;

    #[test]
    fn envelope_round_trips_with_origin() {
        let entry = CachedResponse {
            response: response("hello"),
            provider: Some(Arc::from("openai")),
            upstream_model: Some(Arc::from("gpt-4o-2024-08-06")),
        };
        let bytes = entry.encode().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"v":1,"response":"#), "{text}");
        assert_eq!(CachedResponse::decode(&bytes).unwrap(), entry);
        assert!(entry.weight(10) as usize > bytes.len());
    }

    #[test]
    fn only_finished_unfiltered_answers_are_cacheable() {
        let mut entry = CachedResponse::bare(response("x"));
        assert!(entry.is_cacheable());
        entry.response.choices[0].finish_reason = Some("content_filter".into());
        assert!(!entry.is_cacheable());
        entry.response.choices[0].finish_reason = None;
        assert!(!entry.is_cacheable());
        entry.response.choices.clear();
        assert!(!entry.is_cacheable());
    }

    #[test]
    fn invalidation_scopes_match_and_serialize() {
        let t = TenantId::new("acme");
        assert!(Invalidation::All.matches(&t, "m"));
        assert!(Invalidation::tenant(&t).matches(&t, "m"));
        assert!(!Invalidation::tenant(&TenantId::new("x")).matches(&t, "m"));
        assert!(Invalidation::model("m").matches(&t, "m"));
        assert!(!Invalidation::model("n").matches(&t, "m"));
        assert_eq!(
            serde_json::to_value(Invalidation::model("m")).unwrap(),
            json!({"scope": "model", "model": "m"})
        );
        assert_eq!(
            serde_json::from_value::<Invalidation>(json!({"scope": "all"})).unwrap(),
            Invalidation::All
        );
    }
}
