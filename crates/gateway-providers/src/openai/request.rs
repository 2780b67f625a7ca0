//! Canonical request -> OpenAI wire body. The canonical type is OpenAI's shape, so this is a
//! straight serialisation (unknown fields included), except for the other vendors' fields of
//! [`super::foreign`], translated on a copy only when the request carries any.

use bytes::Bytes;

use gateway_core::types::EmbeddingsRequest;
use gateway_core::{ChatRequest, ProviderError};

use super::foreign::Passthrough;

pub(crate) fn encode(req: &ChatRequest, keep: &Passthrough) -> Result<Bytes, ProviderError> {
    if !super::foreign::needs_translation(req, keep) {
        return to_json(req);
    }
    let mut translated = req.clone();
    super::foreign::translate(&mut translated, keep);
    to_json(&translated)
}

/// Embeddings fields of other vendors (Gemini's task type, which the Gemini ingress and
/// `extra_body` users set) that OpenAI refuses as unknown arguments.
const FOREIGN_IN_EMBEDDINGS: [&str; 2] = ["task_type", "taskType"];

pub(crate) fn encode_embeddings(req: &EmbeddingsRequest) -> Result<Bytes, ProviderError> {
    if FOREIGN_IN_EMBEDDINGS
        .iter()
        .any(|k| req.extra.contains_key(*k))
    {
        let mut req = req.clone();
        for key in FOREIGN_IN_EMBEDDINGS {
            req.extra.remove(key);
        }
        return to_json(&req);
    }
    to_json(req)
}

fn to_json(value: &impl serde::Serialize) -> Result<Bytes, ProviderError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ProviderError::Unsupported(format!("cannot encode request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_task_type_stays_away_from_openai_embeddings() {
        let req: EmbeddingsRequest = serde_json::from_str(
            r#"{"model":"e","input":"hi","task_type":"RETRIEVAL_QUERY","x_other":1}"#,
        )
        .unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&encode_embeddings(&req).unwrap()).unwrap();
        assert!(v.get("task_type").is_none());
        assert_eq!(v["x_other"], 1);
    }

    #[test]
    fn unknown_fields_pass_through() {
        let req: ChatRequest = serde_json::from_str(
            r#"{"model":"m","messages":[{"role":"user","content":"hi","x_msg":1}],"reasoning_effort":"low","stream":true}"#,
        )
        .unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&encode(&req, &Passthrough::default()).unwrap()).unwrap();
        assert_eq!(v["reasoning_effort"], "low");
        assert_eq!(v["messages"][0]["x_msg"], 1);
        assert_eq!(v["stream"], true);
    }
}
