//! Canonical [`ChatResponse`] -> Anthropic `message` object.
//!
//! The stop reason comes from the finish reason, refined by the canonical `stop_reason` and
//! `stop_sequence` fields an Anthropic upstream leaves on the choice (or the finish delta):
//! `stop_sequence` with the matched sequence, `pause_turn`, `refusal`; an OpenAI-compatible
//! server's matched stop string (vLLM's `stop_reason`) is a `stop_sequence` too. Reasoning from
//! upstreams without signed thinking blocks becomes a thinking block with an empty signature.

use gateway_core::types::{Content, Extra};
use gateway_core::{ChatResponse, Usage};
use serde_json::{Value, json};

/// OpenAI `finish_reason` -> Anthropic `stop_reason`.
pub fn stop_reason(finish_reason: Option<&str>) -> &'static str {
    match finish_reason {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// Anthropic's stop reasons, as a canonical `stop_reason` may carry them.
const STOP_REASONS: [&str; 7] = [
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
];

/// (`stop_reason`, `stop_sequence`) for a finish reason and the canonical fields beside it.
pub fn stop_of(finish_reason: Option<&str>, extra: &Extra) -> (&'static str, Option<String>) {
    let sequence = extra
        .get("stop_sequence")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match extra.get("stop_reason").and_then(Value::as_str) {
        Some(reason) => match STOP_REASONS.iter().find(|r| **r == reason) {
            Some(&"stop_sequence") => ("stop_sequence", sequence),
            Some(known) => (known, None),
            // vLLM: the matched stop string of a `stop` finish.
            None if finish_reason == Some("stop") => ("stop_sequence", Some(reason.to_owned())),
            None => (stop_reason(finish_reason), None),
        },
        None => (stop_reason(finish_reason), None),
    }
}

/// Anthropic usage: `input_tokens` excludes what was read from or written to the cache.
pub(crate) fn usage_json(usage: Option<&Usage>) -> Value {
    let Some(u) = usage else {
        return json!({ "input_tokens": 0, "output_tokens": 0 });
    };
    let read = u.cached_tokens();
    let write = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cache_write_tokens)
        .unwrap_or(0);
    json!({
        "input_tokens": u.prompt_tokens.saturating_sub(read + write),
        "output_tokens": u.completion_tokens,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
    })
}

/// `msg_…` ids, as Anthropic clients expect.
pub(crate) fn message_id(id: &str) -> String {
    if id.starts_with("msg_") {
        id.to_owned()
    } else {
        format!("msg_{id}")
    }
}

/// The Anthropic message for `resp` (its first choice), named `public_model`.
pub fn encode_response(resp: &ChatResponse, public_model: &str) -> Value {
    let choice = resp.choices.first();
    let mut content = Vec::new();
    if let Some(m) = choice.map(|c| &c.message) {
        // Only signed thinking blocks (from an Anthropic upstream) can be sent back later.
        if let Some(Value::Array(blocks)) = m.extra.get("thinking_blocks") {
            content.extend(blocks.iter().cloned());
        } else if let Some(reasoning) = m
            .extra
            .get("reasoning_content")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            content.push(json!({ "type": "thinking", "thinking": reasoning, "signature": "" }));
        }
        let text = m
            .content
            .as_ref()
            .map(Content::joined_text)
            .unwrap_or_default();
        if !text.is_empty() {
            content.push(json!({ "type": "text", "text": text }));
        } else if let Some(refusal) = m.refusal.as_deref().filter(|r| !r.is_empty()) {
            content.push(json!({ "type": "text", "text": refusal }));
        }
        for call in m.tool_calls.iter().flatten() {
            let input: Value = serde_json::from_str(&call.function.arguments)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            content.push(json!({ "type": "tool_use", "id": call.id, "name": call.function.name, "input": input }));
        }
    }
    let empty = Extra::new();
    let (stop, sequence) = stop_of(
        choice.and_then(|c| c.finish_reason.as_deref()),
        choice.map_or(&empty, |c| &c.extra),
    );
    json!({
        "id": message_id(&resp.id),
        "type": "message",
        "role": "assistant",
        "model": public_model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": sequence,
        "usage": usage_json(resp.usage.as_ref()),
    })
}

/// The `/v1/messages/count_tokens` answer.
pub fn encode_count_tokens(input_tokens: u64) -> Value {
    json!({ "input_tokens": input_tokens })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(v: Value) -> ChatResponse {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn text_tool_use_stop_reason_and_cache_usage() {
        let r = response(
            json!({"id": "chatcmpl-1", "model": "gpt-4o", "choices": [{"index": 0, "finish_reason": "tool_calls",
            "message": {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
            "usage": {"prompt_tokens": 1100, "completion_tokens": 20, "total_tokens": 1120,
                "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 50}}}),
        );
        assert_eq!(
            encode_response(&r, "claude-public"),
            json!({"id": "msg_chatcmpl-1", "type": "message", "role": "assistant", "model": "claude-public",
                "content": [{"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}],
                "stop_reason": "tool_use", "stop_sequence": null,
                "usage": {"input_tokens": 50, "output_tokens": 20, "cache_creation_input_tokens": 50, "cache_read_input_tokens": 1000}})
        );
    }

    #[test]
    fn kept_stop_reasons_and_unsigned_reasoning() {
        let r = response(
            json!({"id": "m", "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
            "stop_reason": "stop_sequence", "stop_sequence": "END",
            "message": {"role": "assistant", "content": "a", "reasoning_content": "why"}}]}),
        );
        let v = encode_response(&r, "m");
        assert_eq!(
            (v["stop_reason"].as_str(), v["stop_sequence"].as_str()),
            (Some("stop_sequence"), Some("END"))
        );
        assert_eq!(
            v["content"][0],
            json!({"type": "thinking", "thinking": "why", "signature": ""})
        );
        let extra = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            stop_of(Some("stop"), &extra(json!({"stop_reason": "pause_turn"}))),
            ("pause_turn", None)
        );
        assert_eq!(
            stop_of(Some("stop"), &extra(json!({"stop_reason": "###"}))),
            ("stop_sequence", Some("###".to_owned()))
        );
        assert_eq!(
            stop_of(Some("length"), &extra(json!({"stop_reason": 50256}))),
            ("max_tokens", None)
        );
        assert_eq!(
            stop_of(Some("tool_calls"), &Extra::new()),
            ("tool_use", None)
        );
    }

    #[test]
    fn thinking_blocks_lead_and_stop_reasons_map() {
        let r = response(
            json!({"id": "msg_x", "model": "m", "choices": [{"index": 0, "finish_reason": "length",
            "message": {"role": "assistant", "content": "Partial", "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "s"}]}}]}),
        );
        let v = encode_response(&r, "m");
        assert_eq!(v["id"], "msg_x");
        assert_eq!(v["content"][0]["type"], "thinking");
        assert_eq!(v["stop_reason"], "max_tokens");
        assert_eq!(v["usage"], json!({"input_tokens": 0, "output_tokens": 0}));
        for (finish, stop) in [
            (Some("stop"), "end_turn"),
            (Some("content_filter"), "refusal"),
            (None, "end_turn"),
        ] {
            assert_eq!(stop_reason(finish), stop);
        }
    }
}
