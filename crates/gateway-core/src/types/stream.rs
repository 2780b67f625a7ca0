//! Streamed chat completions: OpenAI's `chat.completion.chunk` objects.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::chat::{Extra, Role};
use super::response::Usage;

/// One event of a streamed completion, as a provider adapter yields it.
// Chunks are nearly every event; boxing them would cost an allocation per chunk for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// A chunk of the completion (content, tool-call deltas, finish reason or usage).
    Chunk(ChatChunk),
    /// The upstream is alive but has nothing to say (e.g. Anthropic `ping`); the edge may send
    /// an SSE comment so intermediaries keep the connection open.
    KeepAlive,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChatChunk {
    pub id: String,
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChunkChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

crate::deserialize_with_extra!(ChatChunk, "a chat completion chunk" {
    id: required, object: default(chunk_object), created: default, model: required,
    choices: default, usage: default, system_fingerprint: default,
});

fn chunk_object() -> String {
    "chat.completion.chunk".to_owned()
}

/// One choice of a chunk. `extra` keeps the choice-level fields OpenAI does not define, as
/// [`Choice`](super::response::Choice) does for whole answers: vLLM's `stop_reason` (the
/// matched stop string or token), or the `stop_reason` / `stop_sequence` an Anthropic upstream
/// ends with, so that they survive streaming as they survive a non-streamed call.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChunkChoice {
    pub index: u32,
    pub delta: Delta,
    pub finish_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

crate::deserialize_with_extra!(ChunkChoice, "a chunk choice" {
    index: required, delta: default, finish_reason: default, logprobs: default,
});

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Delta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

crate::deserialize_with_extra!(Delta, "a delta" {
    role: default, content: default, tool_calls: default, refusal: default,
});

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ToolCallDelta {
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FunctionCallDelta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}
