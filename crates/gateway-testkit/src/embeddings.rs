//! `POST /v1/embeddings`: deterministic 8-dimensional embeddings derived from a hash of the input.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::body::MockBody;
use crate::chat::scripted_failure;
use crate::respond;
use crate::script::Script;
use crate::server::State;

/// Dimensions of every mock embedding.
pub const DIMENSIONS: usize = 8;

#[derive(Deserialize)]
struct EmbeddingsRequest {
    model: String,
    input: Value,
    encoding_format: Option<String>,
}

/// One input: text, or an array of token ids.
enum Input<'a> {
    Text(&'a str),
    Tokens(Vec<i64>),
}

impl Input<'_> {
    fn hash(&self) -> u64 {
        match self {
            Self::Text(text) => fnv1a(0, text.as_bytes()),
            Self::Tokens(tokens) => tokens.iter().fold(1, |h, t| fnv1a(h, &t.to_le_bytes())),
        }
    }

    fn tokens(&self) -> u64 {
        match self {
            Self::Text(text) => text.split_whitespace().count() as u64,
            Self::Tokens(tokens) => tokens.len() as u64,
        }
    }
}

fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A unit-length vector that depends only on `hash`.
pub fn embedding(hash: u64) -> [f32; DIMENSIONS] {
    let mut state = hash;
    let mut vector = [0.0_f32; DIMENSIONS];
    for v in &mut vector {
        // 24 random bits mapped onto [-1, 1).
        let bits = (splitmix64(&mut state) >> 40) as u32;
        *v = (bits as f32 / (1_u32 << 23) as f32) - 1.0;
    }
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for v in &mut vector {
            *v /= norm;
        }
    }
    vector
}

fn token_array(values: &[Value]) -> Option<Vec<i64>> {
    values.iter().map(Value::as_i64).collect()
}

/// The inputs, or the message for a 400.
fn inputs(input: &Value) -> Result<Vec<Input<'_>>, &'static str> {
    const SHAPE: &str = "'input' must be a string, an array of strings, an array of tokens \
                         or an array of token arrays";
    match input {
        Value::String(text) => Ok(vec![Input::Text(text)]),
        Value::Array(items) if items.is_empty() => Err("'input' must not be empty"),
        Value::Array(items) => {
            if let Some(tokens) = token_array(items) {
                return Ok(vec![Input::Tokens(tokens)]);
            }
            items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Ok(Input::Text(text)),
                    Value::Array(tokens) => token_array(tokens).map(Input::Tokens).ok_or(SHAPE),
                    _ => Err(SHAPE),
                })
                .collect()
        }
        _ => Err(SHAPE),
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Vector {
    Floats([f32; DIMENSIONS]),
    Base64(String),
}

#[derive(Serialize)]
struct Embedding {
    object: &'static str,
    index: usize,
    embedding: Vector,
}

#[derive(Serialize)]
struct EmbeddingsUsage {
    prompt_tokens: u64,
    total_tokens: u64,
}

#[derive(Serialize)]
struct EmbeddingsResponse<'a> {
    object: &'static str,
    data: Vec<Embedding>,
    model: &'a str,
    usage: EmbeddingsUsage,
}

fn encode(vector: [f32; DIMENSIONS], base64: bool) -> Vector {
    if !base64 {
        return Vector::Floats(vector);
    }
    let mut bytes = [0_u8; DIMENSIONS * 4];
    for (out, v) in bytes.chunks_exact_mut(4).zip(vector) {
        out.copy_from_slice(&v.to_le_bytes());
    }
    Vector::Base64(STANDARD.encode(bytes))
}

/// Handles one embeddings request whose body has been read.
pub async fn handle(state: &State, body: &[u8]) -> Response<MockBody> {
    let request: EmbeddingsRequest = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(err) => return respond::invalid_json(&err.to_string()),
    };
    let script = Script::from_model(&request.model);
    if let Some(response) = scripted_failure(state, script, &request.model).await {
        return response;
    }
    let base64 = match request.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(_) => {
            return respond::invalid_field(
                "'encoding_format' must be 'float' or 'base64'",
                "encoding_format",
            );
        }
    };
    let inputs = match inputs(&request.input) {
        Ok(inputs) => inputs,
        Err(message) => return respond::invalid_field(message, "input"),
    };
    let prompt_tokens = inputs.iter().map(Input::tokens).sum();
    let data = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| Embedding {
            object: "embedding",
            index,
            embedding: encode(embedding(input.hash()), base64),
        })
        .collect();
    let response = EmbeddingsResponse {
        object: "list",
        data,
        model: &request.model,
        usage: EmbeddingsUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    };
    respond::serialized(StatusCode::OK, &response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_deterministic_unit_vectors() {
        let a = embedding(Input::Text("hello").hash());
        let b = embedding(Input::Text("hello").hash());
        let c = embedding(Input::Text("world").hash());
        assert_eq!(a, b);
        assert_ne!(a, c);
        let norm: f32 = a.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(a.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn accepts_every_input_shape() {
        let shapes = [
            (serde_json::json!("a b"), 1),
            (serde_json::json!(["a", "b"]), 2),
            (serde_json::json!([1, 2, 3]), 1),
            (serde_json::json!([[1, 2], [3]]), 2),
        ];
        for (value, count) in shapes {
            assert_eq!(inputs(&value).unwrap().len(), count, "{value}");
        }
        for bad in [
            serde_json::json!([]),
            serde_json::json!(3),
            serde_json::json!([{"a": 1}]),
        ] {
            assert!(inputs(&bad).is_err(), "{bad}");
        }
    }
}
