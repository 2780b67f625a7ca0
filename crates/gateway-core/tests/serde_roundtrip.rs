//! Canonical types keep what they do not model: unknown fields, content parts and tool calls
//! survive a decode/encode round trip unchanged.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gateway_core::{ChatRequest, ChatResponse};
use serde_json::{Value, json};

#[test]
fn rich_openai_request_round_trips() {
    let input = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [
                {"type": "text", "text": "what is in this image?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
                {"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}}
            ]},
            {"role": "assistant", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":1}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "42"}
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "description": "d", "parameters": {"type": "object"}, "strict": true}}],
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
        "stop": ["END"],
        "n": 2,
        "seed": 42,
        "user": "u-1",
        "logprobs": true,
        "top_logprobs": 3,
        "stream": true,
        "stream_options": {"include_usage": true},
        "metadata": {"team": "a"},
        "reasoning_effort": "high"
    });
    let req: ChatRequest = serde_json::from_value(input.clone()).unwrap();
    req.validate().unwrap();
    let output: Value = serde_json::to_value(&req).unwrap();
    assert_eq!(output, input);
}

#[test]
fn response_with_tool_calls_and_logprobs_round_trips() {
    let input = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            "logprobs": {"content": []}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "service_tier": "default"
    });
    let resp: ChatResponse = serde_json::from_value(input.clone()).unwrap();
    let output: Value = serde_json::to_value(&resp).unwrap();
    assert_eq!(output, input);
}
