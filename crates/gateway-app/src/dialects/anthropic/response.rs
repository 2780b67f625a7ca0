//! Canonical [`ChatResponse`] -> Anthropic `message` object.

use gateway_core::types::Content;
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
    json!({
        "id": message_id(&resp.id),
        "type": "message",
        "role": "assistant",
        "model": public_model,
        "content": content,
        "stop_reason": stop_reason(choice.and_then(|c| c.finish_reason.as_deref())),
        "stop_sequence": null,
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
