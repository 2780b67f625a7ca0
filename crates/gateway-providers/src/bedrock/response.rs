//! Bedrock `Converse` answer -> canonical [`ChatResponse`]: text blocks joined into `content`,
//! `toolUse` blocks as tool calls, `reasoningContent` as `reasoning_content`, `stopReason`
//! mapped to OpenAI finish reasons, usage normalised (OpenAI's `prompt_tokens` includes cached
//! tokens; Bedrock's `inputTokens` does not) and `metrics.latencyMs` kept as `bedrock_latency_ms`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde_json::Value;

use gateway_core::types::{
    Choice, Content, Extra, FunctionCall, PromptTokensDetails, Role, ToolCall,
};
use gateway_core::{ChatResponse, Message, ProviderError, Usage};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse {
    output: WireOutput,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
    #[serde(default)]
    metrics: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct WireOutput {
    message: WireMessage,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<Value>,
}

/// Converse's token counts (`usage` of an answer, of a stream's `metadata` event).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_input_tokens: Option<u64>,
}

impl WireUsage {
    pub fn to_usage(&self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let write = self.cache_write_input_tokens.unwrap_or(0);
        let mut usage = Usage::new(self.input_tokens + read + write, self.output_tokens);
        if self.cache_read_input_tokens.is_some() || self.cache_write_input_tokens.is_some() {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: Some(read),
                cache_write_tokens: Some(write),
                extra: Extra::new(),
            });
        }
        usage
    }
}

/// Converse `stopReason` -> OpenAI `finish_reason`.
pub fn finish_reason(stop_reason: &str) -> &str {
    match stop_reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        other => other,
    }
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Converse answers carry no id (it is in the `x-amzn-RequestId` header): a fresh one.
pub(crate) fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("chatcmpl-bedrock-{nanos:08x}{n:04x}")
}

/// Decode a `Converse` answer for `model` (the answer does not name it).
pub fn decode(bytes: &[u8], model: &str) -> Result<ChatResponse, ProviderError> {
    let resp: WireResponse = gateway_core::types::from_json_bytes(bytes)
        .map_err(|e| ProviderError::InvalidResponse(format!("bedrock converse answer: {e}")))?;
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    for block in &resp.output.message.content {
        if let Some(t) = block["text"].as_str() {
            text.push_str(t);
        } else if let Some(call) = block.get("toolUse") {
            tool_calls.push(ToolCall {
                id: call["toolUseId"].as_str().unwrap_or_default().to_owned(),
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: call["name"].as_str().unwrap_or_default().to_owned(),
                    arguments: serde_json::to_string(&call["input"])
                        .unwrap_or_else(|_| "{}".to_owned()),
                },
            });
        } else if let Some(r) = block["reasoningContent"]["reasoningText"]["text"].as_str() {
            reasoning.push_str(r);
        }
    }
    let mut message = Message::text(Role::Assistant, text);
    if matches!(&message.content, Some(Content::Text(t)) if t.is_empty()) && !tool_calls.is_empty()
    {
        message.content = None;
    }
    if !tool_calls.is_empty() {
        message.tool_calls = Some(tool_calls);
    }
    if !reasoning.is_empty() {
        message
            .extra
            .insert("reasoning_content".into(), Value::String(reasoning));
    }
    let mut choice_extra = Extra::new();
    if let Some(reason @ ("guardrail_intervened" | "content_filtered")) =
        resp.stop_reason.as_deref()
    {
        choice_extra.insert("stop_reason".into(), Value::String(reason.to_owned()));
    }
    let mut extra = Extra::new();
    if let Some(latency) = resp.metrics.as_ref().and_then(|m| m.get("latencyMs")) {
        extra.insert("bedrock_latency_ms".into(), latency.clone());
    }
    Ok(ChatResponse {
        id: new_id(),
        object: "chat.completion".to_owned(),
        created: unix_now(),
        model: model.to_owned(),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: resp
                .stop_reason
                .as_deref()
                .map(|r| finish_reason(r).to_owned()),
            logprobs: None,
            extra: choice_extra,
        }],
        usage: Some(resp.usage.to_usage()),
        system_fingerprint: None,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons() {
        for (bedrock, openai) in [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("tool_use", "tool_calls"),
            ("guardrail_intervened", "content_filter"),
            ("content_filtered", "content_filter"),
        ] {
            assert_eq!(finish_reason(bedrock), openai);
        }
    }

    #[test]
    fn cache_tokens_fold_into_prompt_tokens() {
        let body = br#"{"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},
            "stopReason":"end_turn","usage":{"inputTokens":10,"outputTokens":2,"totalTokens":1112,
            "cacheReadInputTokens":1000,"cacheWriteInputTokens":100}}"#;
        let r = decode(body, "m").unwrap();
        let u = r.usage.unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (1110, 2));
        assert_eq!(u.cached_tokens(), 1000);
    }

    #[test]
    fn not_an_answer_is_invalid() {
        assert!(matches!(
            decode(b"{\"message\":\"x\"}", "m"),
            Err(ProviderError::InvalidResponse(_))
        ));
    }
}
