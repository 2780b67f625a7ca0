//! OpenAI wire responses -> canonical types.

use gateway_core::types::{EmbeddingsResponse, ModelInfo, from_json_bytes};
use gateway_core::{ChatResponse, ProviderError};
use serde::Deserialize;

fn invalid(what: &str, e: &serde_json::Error) -> ProviderError {
    ProviderError::InvalidResponse(format!("{what}: {e}"))
}

pub(crate) fn decode_chat(bytes: &[u8]) -> Result<ChatResponse, ProviderError> {
    from_json_bytes(bytes).map_err(|e| invalid("chat completion", &e))
}

pub(crate) fn decode_embeddings(bytes: &[u8]) -> Result<EmbeddingsResponse, ProviderError> {
    from_json_bytes(bytes).map_err(|e| invalid("embeddings", &e))
}

pub(crate) fn decode_models(bytes: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
    #[derive(Deserialize)]
    struct List {
        data: Vec<ModelInfo>,
    }
    serde_json::from_slice::<List>(bytes)
        .map(|l| l.data)
        .map_err(|e| invalid("model list", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_documented_example() {
        let body = br#"{"id":"chatcmpl-123","object":"chat.completion","created":1677652288,"model":"gpt-4o-mini",
          "system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},
          "logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,
          "prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":5}},"service_tier":"default"}"#;
        let r = decode_chat(body).unwrap();
        let usage = r.usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.cached_tokens(),
                usage.reasoning_tokens()
            ),
            (9, 2, 5)
        );
        assert_eq!(r.extra["service_tier"], "default");
    }

    #[test]
    fn truncated_body_is_invalid_response() {
        assert!(matches!(
            decode_chat(br#"{"id": "x", "choices": ["#),
            Err(ProviderError::InvalidResponse(_))
        ));
    }
}
