//! Schemas of the answers the Gemini dialect encodes as JSON values (its encoders follow
//! Google's format part by part): `GenerateContentResponse` (also each streamed chunk),
//! `CountTokensResponse` and the embeddings answers. Each type here is checked against the
//! encoders' real output by the tests below: a field an encoder adds or renames fails them
//! (`deny_unknown_fields`), so the document cannot drift from the code. The request bodies
//! are the dialect's own types (`crate::dialects::gemini::GenerateContentRequest`, ...).

// The types are only read by schemars and constructed by the tests.
#![allow(dead_code)]

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// `GenerateContentResponse`: the answer of `generateContent`, and each chunk of
/// `streamGenerateContent`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiGenerateContentResponse")]
pub struct GenerateContentResponse {
    candidates: Vec<Candidate>,
    /// In the answer, and in the last chunk of a stream.
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    /// The model name the caller used.
    model_version: String,
    /// The upstream answer's id.
    response_id: String,
}

/// One candidate answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiCandidate")]
pub struct Candidate {
    content: AnswerContent,
    index: u32,
    /// Absent until the candidate is finished (streams).
    #[serde(default)]
    #[schemars(extend("enum" = ["STOP", "MAX_TOKENS", "SAFETY", "OTHER", null]))]
    finish_reason: Option<String>,
}

/// The model's turn.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GeminiAnswerContent")]
pub struct AnswerContent {
    parts: Vec<AnswerPart>,
    #[schemars(extend("const" = "model"))]
    role: String,
}

/// One part of an answer: text (a thought when `thought` is true), or a function call.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiAnswerPart")]
pub struct AnswerPart {
    #[serde(default)]
    text: Option<String>,
    /// The text is the model's reasoning.
    #[serde(default)]
    thought: Option<bool>,
    #[serde(default)]
    function_call: Option<AnswerFunctionCall>,
    /// A Gemini upstream's signature of the call, to send back with it in the next turn.
    #[serde(default)]
    thought_signature: Option<String>,
}

/// A call of one of the request's function declarations.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GeminiAnswerFunctionCall")]
pub struct AnswerFunctionCall {
    /// Echo it in the `functionResponse` of the next turn.
    id: String,
    name: String,
    args: Map<String, Value>,
}

/// Tokens of one call.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiUsageMetadata")]
pub struct UsageMetadata {
    prompt_token_count: u64,
    /// The answer's tokens, without the thoughts'.
    candidates_token_count: u64,
    #[serde(default)]
    total_token_count: Option<u64>,
    #[serde(default)]
    thoughts_token_count: Option<u64>,
    /// Of the prompt, read from a provider's cache.
    #[serde(default)]
    cached_content_token_count: Option<u64>,
    #[serde(default)]
    tool_use_prompt_token_count: Option<u64>,
}

/// The answer of `countTokens` (the gateway's estimate; no upstream call).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiCountTokensResponse")]
pub struct CountTokensResponse {
    total_tokens: u64,
}

/// One embedding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GeminiContentEmbedding")]
pub struct ContentEmbedding {
    values: Vec<f64>,
}

/// The answer of `embedContent`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GeminiEmbedContentResponse")]
pub struct EmbedContentResponse {
    embedding: ContentEmbedding,
}

/// The answer of `batchEmbedContents`, in the order of the requests.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GeminiBatchEmbedContentsResponse")]
pub struct BatchEmbedContentsResponse {
    embeddings: Vec<ContentEmbedding>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialects::gemini::{
        GeminiStreamEncoder, encode_count_tokens, encode_embeddings, encode_response,
    };
    use gateway_core::types::{ChatChunk, EmbeddingsResponse};
    use gateway_core::{ChatResponse, GatewayError};
    use serde_json::json;

    fn chat(value: Value) -> ChatResponse {
        serde_json::from_value(value).expect("a chat response")
    }

    #[test]
    fn the_gemini_encoders_write_these_types() {
        let resp = chat(json!({
            "id": "chatcmpl-1", "model": "m", "created": 1,
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "Let me check.", "reasoning_content": "hmm",
                "tool_calls": [{"id": "t1", "type": "function",
                    "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17,
                "prompt_tokens_details": {"cached_tokens": 2},
                "completion_tokens_details": {"reasoning_tokens": 1}}
        }));
        let answer: GenerateContentResponse =
            serde_json::from_value(encode_response(&resp, "demo")).expect("the schema's type");
        let parts = &answer.candidates[0].content.parts;
        assert_eq!(parts.len(), 3, "thought, text, function call");
        assert!(parts[2].function_call.is_some());
        let usage = answer.usage_metadata.expect("usage");
        assert_eq!(usage.cached_content_token_count, Some(2));
        assert_eq!(usage.thoughts_token_count, Some(1));
        let bare = chat(json!({ "id": "x", "model": "m", "choices": [] }));
        let _: GenerateContentResponse =
            serde_json::from_value(encode_response(&bare, "demo")).expect("the schema's type");
        let count: CountTokensResponse =
            serde_json::from_value(encode_count_tokens(3)).expect("the schema's type");
        assert_eq!(count.total_tokens, 3);
        let embeddings: EmbeddingsResponse = serde_json::from_value(json!({
            "object": "list", "model": "e",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 1.0]}],
        }))
        .expect("embeddings");
        let one: EmbedContentResponse =
            serde_json::from_value(encode_embeddings(&embeddings, false).expect("one"))
                .expect("the schema's type");
        assert_eq!(one.embedding.values, vec![0.5, 1.0]);
        let _: BatchEmbedContentsResponse =
            serde_json::from_value(encode_embeddings(&embeddings, true).expect("batch"))
                .expect("the schema's type");
    }

    #[test]
    fn every_streamed_chunk_is_a_response_or_an_error() {
        let mut encoder = GeminiStreamEncoder::new("demo");
        let chunk = |value: Value| -> ChatChunk { serde_json::from_value(value).expect("a chunk") };
        let mut events = Vec::new();
        events.extend(encoder.push(&chunk(json!({
            "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "Hel", "reasoning_content": "think"}}],
        }))));
        events.extend(encoder.push(&chunk(json!({
            "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "delta": {"tool_calls": [
                {"index": 0, "id": "t1", "type": "function",
                 "function": {"name": "weather", "arguments": "{}"}}]}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }))));
        events.extend(encoder.finish());
        assert_eq!(events.len(), 2);
        for event in events {
            let _: GenerateContentResponse =
                serde_json::from_value(event).expect("the schema's type");
        }
        let failed = GeminiStreamEncoder::new("demo").fail(&GatewayError::Unavailable("x".into()));
        let _: super::super::wire::GeminiError =
            serde_json::from_value(failed[0].clone()).expect("the error's type");
    }
}
