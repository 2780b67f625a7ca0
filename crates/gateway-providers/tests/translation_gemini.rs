//! Gemini translations against golden fixtures (inputs from Google's documented examples):
//! requests out, responses and `alt=sse` streams back, safety blocks, thinking usage,
//! thought signatures carried through tool-call ids.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod golden;

use gateway_core::types::ToolCall;
use gateway_core::{ChatRequest, Message, ProviderError, Role, StreamEvent};
use gateway_providers::gemini::{request, response, stream::StreamDecoder};
use gateway_providers::vendor_stream::decode_text;
use golden::{assert_golden, events_json, json, text};

#[test]
fn request_with_system_images_tools_results_config_and_choice() {
    let req: ChatRequest = serde_json::from_value(json("gemini/request_full.openai.json")).unwrap();
    assert_golden(
        "gemini/request_full.gemini.json",
        request::build(&req).unwrap(),
    );
}

#[test]
fn responses() {
    for name in [
        "response_function_call",
        "response_thinking",
        "response_safety",
    ] {
        let body = text(&format!("gemini/{name}.gemini.json"));
        let decoded = response::decode(body.as_bytes(), "gemini-2.0-flash").unwrap();
        assert_golden(&format!("gemini/{name}.openai.json"), decoded);
    }
}

#[test]
fn a_blocked_prompt_is_a_clear_error() {
    let body = text("gemini/response_prompt_blocked.gemini.json");
    match response::decode(body.as_bytes(), "m") {
        Err(ProviderError::Status {
            status: 400,
            message,
            ..
        }) => {
            assert_eq!(
                message,
                "The prompt was blocked by the provider's content filter (SAFETY)."
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn streams() {
    for name in ["stream_text", "stream_function_call"] {
        let sse = text(&format!("gemini/{name}.sse"));
        let events =
            decode_text(&mut StreamDecoder::new("gemini-2.0-flash", true, 0), &sse).unwrap();
        assert_golden(&format!("gemini/{name}.chunks.json"), events_json(&events));
    }
}

#[test]
fn a_streamed_thought_signature_returns_with_the_call_next_turn() {
    let sse = text("gemini/stream_function_call.sse");
    let events = decode_text(&mut StreamDecoder::new("m", false, 0), &sse).unwrap();
    let calls: Vec<ToolCall> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Chunk(c) => c.choices.first()?.delta.tool_calls.clone(),
            StreamEvent::KeepAlive => None,
        })
        .flatten()
        .map(|d| {
            let f = d.function.unwrap();
            serde_json::from_value(serde_json::json!({
                "id": d.id.unwrap(), "type": "function",
                "function": {"name": f.name.unwrap(), "arguments": f.arguments.unwrap()}
            }))
            .unwrap()
        })
        .collect();
    assert_eq!(calls.len(), 2);
    let mut assistant = Message::text(Role::Assistant, "");
    assistant.content = None;
    assistant.tool_calls = Some(calls);
    let req = ChatRequest {
        model: "m".into(),
        messages: vec![Message::text(Role::User, "hi"), assistant],
        ..Default::default()
    };
    let body = request::build(&req).unwrap();
    let parts = &body["contents"][1]["parts"];
    assert_eq!(
        parts[0]["thoughtSignature"],
        "AY89a18iOcFus5wr5bW5xN6zZ4aUiCyhgmg6HE2YjtYDV/dwZ5oZlZHeTmiUKv34qq0="
    );
    assert_eq!(parts[0]["functionCall"]["args"]["topic"], "Q3 planning");
    assert!(parts[1].get("thoughtSignature").is_none());
}
