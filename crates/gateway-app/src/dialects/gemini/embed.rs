//! Gemini `embedContent` / `batchEmbedContents` -> canonical [`EmbeddingsRequest`].
//!
//! Each content's text parts, joined, are one input (Google embeds text only);
//! `outputDimensionality` is `dimensions`, `taskType` travels in `extra` as `task_type`, where
//! the Gemini provider adapter finds it. A batch names its model in every request, which must
//! be the model of the path, and shares one dimensionality and task type.

use serde_json::Value;

use gateway_core::GatewayError;
use gateway_core::types::{EmbeddingsRequest, Extra};

use super::request::{invalid, parse};
use super::wire::{BatchEmbedContentsRequest, EmbedContentRequest};

/// Most requests in one `batchEmbedContents` call (Google's own limit).
pub const MAX_BATCH: usize = 100;

/// Decode an `embedContent` body for `model`.
pub fn decode_one(model: &str, body: &[u8]) -> Result<EmbeddingsRequest, GatewayError> {
    let req: EmbedContentRequest = parse(body)?;
    let mut batch = Batch::new(model);
    let text = batch.add(req, None)?;
    Ok(batch.into_request(Value::String(text)))
}

/// Decode a `batchEmbedContents` body for `model`.
pub fn decode_batch(model: &str, body: &[u8]) -> Result<EmbeddingsRequest, GatewayError> {
    let req: BatchEmbedContentsRequest = parse(body)?;
    if req.requests.is_empty() {
        return Err(invalid(
            "* BatchEmbedContentsRequest.requests: must not be empty",
        ));
    }
    if req.requests.len() > MAX_BATCH {
        return Err(invalid(format!(
            "* BatchEmbedContentsRequest.requests: at most {MAX_BATCH} requests are allowed per batch"
        )));
    }
    let mut batch = Batch::new(model);
    let mut inputs = Vec::with_capacity(req.requests.len());
    for (i, r) in req.requests.into_iter().enumerate() {
        inputs.push(Value::String(batch.add(r, Some(i))?));
    }
    Ok(batch.into_request(Value::Array(inputs)))
}

/// What the requests of one call agree on.
struct Batch<'a> {
    model: &'a str,
    dimensions: Option<Option<u32>>,
    task_type: Option<Option<String>>,
}

impl<'a> Batch<'a> {
    fn new(model: &'a str) -> Self {
        Batch {
            model,
            dimensions: None,
            task_type: None,
        }
    }

    /// The text of request `index` (of a batch), checked against the others.
    fn add(
        &mut self,
        r: EmbedContentRequest,
        index: Option<usize>,
    ) -> Result<String, GatewayError> {
        let at = index.map_or_else(String::new, |i| format!("requests[{i}]."));
        if let Some(named) = &r.model {
            let named = named.strip_prefix("models/").unwrap_or(named);
            if named != self.model {
                return Err(invalid(format!(
                    "{at}model: '{named}' differs from the model of the URL, '{}'",
                    self.model
                )));
            }
        }
        if *self.dimensions.get_or_insert(r.output_dimensionality) != r.output_dimensionality
            || *self.task_type.get_or_insert_with(|| r.task_type.clone()) != r.task_type
        {
            return Err(invalid(format!(
                "{at}: every request of a batch must ask for the same outputDimensionality and taskType"
            )));
        }
        let mut texts = Vec::with_capacity(r.content.parts.len());
        for part in r.content.parts {
            match part.text {
                Some(text) => texts.push(text),
                None => {
                    return Err(invalid(format!(
                        "{at}content.parts: only text can be embedded through the gateway"
                    )));
                }
            }
        }
        if texts.is_empty() {
            return Err(invalid(format!("{at}content.parts: must not be empty")));
        }
        Ok(texts.join("\n"))
    }

    fn into_request(self, input: Value) -> EmbeddingsRequest {
        let mut extra = Extra::new();
        if let Some(Some(task)) = self.task_type {
            extra.insert("task_type".into(), Value::String(task));
        }
        EmbeddingsRequest {
            model: self.model.to_owned(),
            input,
            encoding_format: Some("float".to_owned()),
            dimensions: self.dimensions.flatten(),
            user: None,
            extra,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_content_is_one_input() {
        let r = decode_one(
            "emb",
            br#"{"content":{"parts":[{"text":"hello"},{"text":"world"}]},"outputDimensionality":8,"task_type":"RETRIEVAL_QUERY"}"#,
        )
        .unwrap();
        assert_eq!(r.model, "emb");
        assert_eq!(r.input, json!("hello\nworld"));
        assert_eq!(r.dimensions, Some(8));
        assert_eq!(r.extra["task_type"], "RETRIEVAL_QUERY");
    }

    #[test]
    fn a_batch_is_a_list_of_inputs_for_the_models_path() {
        let body = json!({"requests": [
            {"model": "models/emb", "content": {"parts": [{"text": "a"}]}},
            {"model": "models/emb", "content": {"parts": [{"text": "b"}]}}
        ]});
        let r = decode_batch("emb", body.to_string().as_bytes()).unwrap();
        assert_eq!(r.input, json!(["a", "b"]));
        assert_eq!(r.dimensions, None);
        let other =
            json!({"requests": [{"model": "models/other", "content": {"parts": [{"text": "a"}]}}]});
        assert!(decode_batch("emb", other.to_string().as_bytes()).is_err());
        let mixed = json!({"requests": [
            {"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 8},
            {"content": {"parts": [{"text": "b"}]}}
        ]});
        assert!(decode_batch("emb", mixed.to_string().as_bytes()).is_err());
        assert!(decode_batch("emb", br#"{"requests":[]}"#).is_err());
        let image = json!({"requests": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "AA=="}}]}}]});
        assert!(decode_batch("emb", image.to_string().as_bytes()).is_err());
    }
}
