//! Fixtures shared by the unit tests.

use gateway_core::{ChatRequest, ChatResponse, Message, Role};
use serde_json::json;

pub(crate) fn response(text: &str) -> ChatResponse {
    serde_json::from_value(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    }))
    .unwrap()
}

pub(crate) fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o".into(),
        messages: vec![Message::text(Role::User, text)],
        ..ChatRequest::default()
    }
}
