//! OpenAI embeddings <-> Gemini `embedContent` (one input) / `batchEmbedContents` (a list).
//! Gemini reports no token usage for embeddings; the gateway estimates it (4 characters a
//! token) so that accounting and budgets still see the call. `encoding_format: base64` (the
//! OpenAI SDKs' default) is produced from the float values, little-endian f32 as OpenAI does.

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use gateway_core::ProviderError;
use gateway_core::types::{
    Embedding, EmbeddingsRequest, EmbeddingsResponse, EmbeddingsUsage, Extra,
};

/// Which Gemini method a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    EmbedContent,
    BatchEmbedContents,
}

impl Method {
    /// The method [`encode`] chose for `req`: one text is `embedContent`, a list is batched.
    pub fn of(req: &EmbeddingsRequest) -> Method {
        if req.input.is_string() {
            Method::EmbedContent
        } else {
            Method::BatchEmbedContents
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::EmbedContent => "embedContent",
            Method::BatchEmbedContents => "batchEmbedContents",
        }
    }
}

fn one(text: &str, model: &str, req: &EmbeddingsRequest, with_model: bool) -> Value {
    let mut r = Map::new();
    if with_model {
        r.insert("model".into(), Value::String(format!("models/{model}")));
    }
    r.insert("content".into(), json!({ "parts": [{ "text": text }] }));
    if let Some(d) = req.dimensions {
        r.insert("outputDimensionality".into(), json!(d));
    }
    if let Some(t) = req
        .extra
        .get("task_type")
        .or_else(|| req.extra.get("taskType"))
    {
        r.insert("taskType".into(), t.clone());
    }
    Value::Object(r)
}

/// The method and body for `req` against `model` (the bare model name).
pub fn encode(req: &EmbeddingsRequest, model: &str) -> Result<(Method, Bytes), ProviderError> {
    let body = match &req.input {
        Value::String(text) => (Method::EmbedContent, one(text, model, req, false)),
        Value::Array(items) => {
            let texts = items
                .iter()
                .map(|i| {
                    i.as_str().ok_or_else(|| {
                        ProviderError::Unsupported("Gemini embeds text inputs only".into())
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let requests: Vec<Value> = texts
                .into_iter()
                .map(|t| one(t, model, req, true))
                .collect();
            (Method::BatchEmbedContents, json!({ "requests": requests }))
        }
        _ => {
            return Err(ProviderError::Unsupported(
                "'input' must be a string or an array of strings".into(),
            ));
        }
    };
    let bytes = serde_json::to_vec(&body.1)
        .map_err(|e| ProviderError::Unsupported(format!("cannot encode: {e}")))?;
    Ok((body.0, Bytes::from(bytes)))
}

#[derive(Deserialize)]
struct Values {
    values: Vec<f32>,
}

#[derive(Deserialize)]
struct Single {
    embedding: Values,
}

#[derive(Deserialize)]
struct Batch {
    embeddings: Vec<Values>,
}

fn encode_values(values: Vec<f32>, base64: bool) -> Value {
    if base64 {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
    } else {
        json!(values)
    }
}

/// Decode the answer to `method` into OpenAI's shape, named after the request's model.
pub fn decode(
    bytes: &[u8],
    method: Method,
    req: &EmbeddingsRequest,
) -> Result<EmbeddingsResponse, ProviderError> {
    let invalid =
        |e: serde_json::Error| ProviderError::InvalidResponse(format!("gemini embeddings: {e}"));
    let vectors = match method {
        Method::EmbedContent => vec![
            serde_json::from_slice::<Single>(bytes)
                .map_err(invalid)?
                .embedding
                .values,
        ],
        Method::BatchEmbedContents => serde_json::from_slice::<Batch>(bytes)
            .map_err(invalid)?
            .embeddings
            .into_iter()
            .map(|v| v.values)
            .collect(),
    };
    let base64 = req.encoding_format.as_deref() == Some("base64");
    let data = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| Embedding {
            object: "embedding".to_owned(),
            index: u32::try_from(i).unwrap_or(u32::MAX),
            embedding: encode_values(v, base64),
        })
        .collect();
    let tokens = req
        .texts()
        .iter()
        .map(|t| (t.chars().count() as u64).div_ceil(4))
        .sum();
    Ok(EmbeddingsResponse {
        object: "list".to_owned(),
        data,
        model: req.model.clone(),
        usage: EmbeddingsUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
        extra: Extra::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> EmbeddingsRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn single_and_batch_bodies() {
        let (m, body) = encode(
            &req(json!({"model":"e","input":"hello","dimensions":8})),
            "e",
        )
        .unwrap();
        assert_eq!(m, Method::EmbedContent);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({"content":{"parts":[{"text":"hello"}]},"outputDimensionality":8})
        );
        let (m, body) = encode(
            &req(json!({"model":"e","input":["a","b"]})),
            "text-embedding-004",
        )
        .unwrap();
        assert_eq!(m, Method::BatchEmbedContents);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["requests"][1]["model"], "models/text-embedding-004");
        assert!(encode(&req(json!({"model":"e","input":[[1,2]]})), "e").is_err());
    }

    #[test]
    fn base64_is_little_endian_f32() {
        let r = req(json!({"model":"e","input":"abcdefgh","encoding_format":"base64"}));
        let out = decode(
            br#"{"embedding":{"values":[1.0]}}"#,
            Method::EmbedContent,
            &r,
        )
        .unwrap();
        assert_eq!(out.data[0].embedding, json!("AACAPw=="));
        assert_eq!(out.usage.prompt_tokens, 2);
    }
}
