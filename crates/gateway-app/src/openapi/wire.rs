//! Schemas of the bodies the Anthropic dialect encodes as JSON values rather than through a
//! type of its own (its encoders follow Anthropic's format block by block). Each type here is
//! checked against the encoder's real output by the tests below: a field the encoder adds or
//! renames fails them (`deny_unknown_fields`), so the document cannot drift from the code.

// The types are only read by schemars and constructed by the tests.
#![allow(dead_code)]

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Anthropic's error body: `{"type": "error", "error": {"type", "message"}}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnthropicError {
    #[serde(rename = "type")]
    #[schemars(extend("const" = "error"))]
    kind: String,
    error: AnthropicErrorDetail,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnthropicErrorDetail {
    /// `invalid_request_error`, `authentication_error`, `permission_error`,
    /// `not_found_error`, `rate_limit_error`, `overloaded_error` or `api_error`.
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

/// An Anthropic `message` (the answer of `POST /v1/messages` without `stream`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnthropicMessageResponse {
    /// `msg_...`.
    id: String,
    #[serde(rename = "type")]
    #[schemars(extend("const" = "message"))]
    kind: String,
    #[schemars(extend("const" = "assistant"))]
    role: String,
    /// The model name the caller asked for.
    model: String,
    content: Vec<AnthropicContentBlock>,
    /// `end_turn`, `max_tokens`, `tool_use` or `refusal`.
    stop_reason: Option<String>,
    stop_sequence: Option<String>,
    usage: AnthropicUsage,
}

/// One block of an answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AnthropicContentBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: Map<String, Value>,
    },
    /// Signed reasoning from an Anthropic upstream, to send back in the next turn.
    Thinking {
        thinking: String,
        signature: String,
    },
    RedactedThinking {
        data: String,
    },
}

/// Tokens of one call; `input_tokens` excludes what was read from or written to the cache.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnthropicUsage {
    input_tokens: u64,
    output_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

/// The answer of `POST /v1/messages/count_tokens`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnthropicTokenCount {
    input_tokens: u64,
}

/// A response object of the Responses API (the answer of `POST /v1/responses` without
/// `stream`, and of `GET /v1/responses/{id}`). Besides these fields it echoes the request's
/// settings (`instructions`, `tools`, `text`, `temperature`, ...).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ResponseObject {
    /// `resp_...`.
    id: String,
    #[schemars(extend("const" = "response"))]
    object: String,
    /// Unix seconds.
    created_at: u64,
    /// `completed`, `incomplete`, `failed` or `in_progress`.
    status: String,
    error: Option<Map<String, Value>>,
    incomplete_details: Option<Map<String, Value>>,
    /// Output items: `message`, `function_call`, `reasoning`.
    output: Vec<Map<String, Value>>,
    usage: Option<Map<String, Value>>,
    #[serde(default)]
    completed_at: Option<u64>,
    model: String,
    #[serde(flatten)]
    echoed: Map<String, Value>,
}

/// The answer of `DELETE /v1/responses/{id}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseDeleted {
    id: String,
    #[schemars(extend("const" = "response.deleted"))]
    object: String,
    #[schemars(extend("const" = true))]
    deleted: bool,
}

/// A page of a stored response's input items.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseInputItems {
    #[schemars(extend("const" = "list"))]
    object: String,
    data: Vec<Map<String, Value>>,
    first_id: Option<String>,
    last_id: Option<String>,
    has_more: bool,
}

/// OpenAI's File object (`/v1/files`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileObject {
    /// `file-...`.
    id: String,
    #[schemars(extend("const" = "file"))]
    object: String,
    bytes: u64,
    /// Unix seconds.
    created_at: u64,
    filename: String,
    /// `batch` for uploads, `batch_output` for what the batch worker writes.
    purpose: String,
    status: String,
    expires_at: Option<u64>,
    status_details: Option<String>,
}

/// A page of files.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileList {
    #[schemars(extend("const" = "list"))]
    object: String,
    first_id: Option<String>,
    last_id: Option<String>,
    has_more: bool,
    data: Vec<FileObject>,
}

/// The answer of `DELETE /v1/files/{id}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileDeleted {
    id: String,
    #[schemars(extend("const" = "file"))]
    object: String,
    #[schemars(extend("const" = true))]
    deleted: bool,
}

/// Google's error body: `{"error": {"code", "message", "status", "details"?}}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeminiError {
    error: GeminiErrorDetail,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeminiErrorDetail {
    /// The HTTP status.
    code: u16,
    message: String,
    /// Google's status name (`INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, ...).
    status: String,
    /// `RetryInfo` and the like, when there is more to say.
    #[serde(default)]
    details: Option<Vec<Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialects::anthropic::{encode_count_tokens, encode_error, encode_response};
    use gateway_core::{ChatResponse, GatewayError};
    use serde_json::json;

    #[test]
    fn the_anthropic_encoders_write_these_types() {
        let resp: ChatResponse = serde_json::from_value(json!({
            "id": "chatcmpl-1", "model": "m", "created": 1,
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "Let me check.",
                "thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": "c2ln"}],
                "tool_calls": [{"id": "t1", "type": "function",
                    "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17,
                "prompt_tokens_details": {"cached_tokens": 2}}
        }))
        .expect("a chat response");
        let message: AnthropicMessageResponse =
            serde_json::from_value(encode_response(&resp, "claude")).expect("the schema's type");
        assert_eq!(message.content.len(), 3);
        let bare: ChatResponse = serde_json::from_value(json!({
            "id": "x", "model": "m", "choices": []
        }))
        .expect("a chat response");
        let _: AnthropicMessageResponse =
            serde_json::from_value(encode_response(&bare, "claude")).expect("the schema's type");
        let _: AnthropicTokenCount =
            serde_json::from_value(encode_count_tokens(3)).expect("the schema's type");
        for err in [
            GatewayError::invalid("bad"),
            GatewayError::Unavailable("busy".into()),
            GatewayError::rate_limited(
                gateway_core::LimitKind::Requests,
                "slow down",
                Some(std::time::Duration::from_secs(2)),
            ),
        ] {
            let _: AnthropicError =
                serde_json::from_value(encode_error(&err)).expect("the schema's type");
            let _: GeminiError =
                serde_json::from_value(crate::dialects::gemini::encode_error(&err))
                    .expect("the schema's type");
        }
    }
}
