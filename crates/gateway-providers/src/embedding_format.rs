//! Embeddings in the format the caller asked for (`encoding_format`: `float`, the API's
//! default, or `base64`: little-endian f32, the OpenAI SDKs' default), whatever the upstream
//! returned: servers that ignore the field answer floats, and some answer base64 unasked.
//! Vectors already in the right form are left untouched.

use base64::Engine as _;
use serde_json::Value;

use gateway_core::ProviderError;
use gateway_core::types::EmbeddingsResponse;

/// Bring every vector of `resp` into `requested` (`None` is `float`).
pub fn conform(
    resp: &mut EmbeddingsResponse,
    requested: Option<&str>,
) -> Result<(), ProviderError> {
    let base64 = requested == Some("base64");
    for item in &mut resp.data {
        match (&item.embedding, base64) {
            (Value::Array(values), true) => {
                let mut bytes = Vec::with_capacity(values.len() * 4);
                for v in values {
                    let f = v
                        .as_f64()
                        .ok_or_else(|| not_a_vector("a non-number value"))?;
                    // f32 is the wire precision of embeddings.
                    #[allow(clippy::cast_possible_truncation)]
                    bytes.extend_from_slice(&(f as f32).to_le_bytes());
                }
                item.embedding =
                    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
            }
            (Value::String(encoded), false) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|_| not_a_vector("invalid base64"))?;
                if bytes.len() % 4 != 0 {
                    return Err(not_a_vector("a base64 length that is not whole f32s"));
                }
                item.embedding = Value::Array(
                    bytes
                        .chunks_exact(4)
                        .map(|c| {
                            let f = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                            serde_json::Number::from_f64(f64::from(f))
                                .map_or(Value::Null, Value::Number)
                        })
                        .collect(),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

fn not_a_vector(what: &str) -> ProviderError {
    ProviderError::InvalidResponse(format!("embedding with {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(embedding: Value) -> EmbeddingsResponse {
        serde_json::from_value(
            json!({"data": [{"index": 0, "embedding": embedding}], "model": "e"}),
        )
        .unwrap()
    }

    #[test]
    fn floats_become_base64_and_back() {
        let mut r = resp(json!([0.5, -1.0, 0.25]));
        conform(&mut r, Some("base64")).unwrap();
        let encoded = r.data[0].embedding.as_str().unwrap().to_owned();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .unwrap();
        assert_eq!(&bytes[..4], &0.5f32.to_le_bytes());
        conform(&mut r, Some("base64")).unwrap();
        assert_eq!(
            r.data[0].embedding,
            Value::String(encoded),
            "left as it was"
        );
        conform(&mut r, None).unwrap();
        assert_eq!(r.data[0].embedding, json!([0.5, -1.0, 0.25]));
        conform(&mut r, Some("float")).unwrap();
        assert_eq!(r.data[0].embedding, json!([0.5, -1.0, 0.25]));
    }

    #[test]
    fn broken_vectors_are_invalid_responses() {
        assert!(conform(&mut resp(json!("not base64!")), None).is_err());
        assert!(conform(&mut resp(json!("AAA=")), None).is_err());
        assert!(conform(&mut resp(json!(["x"])), Some("base64")).is_err());
    }
}
