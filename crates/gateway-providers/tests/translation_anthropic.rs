//! Anthropic translations against golden fixtures (inputs from Anthropic's documented
//! examples): requests out, messages and event streams back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod golden;

use gateway_core::{ChatRequest, ProviderError};
use gateway_providers::anthropic::{request, response, stream::StreamDecoder};
use gateway_providers::vendor_stream::decode_text;
use golden::{assert_golden, events_json, json, text};

fn encode(name: &str, stream: bool) -> serde_json::Value {
    let req: ChatRequest = serde_json::from_value(json(name)).unwrap();
    request::build(&req, 4096, stream).unwrap()
}

#[test]
fn request_with_system_images_tools_results_and_choice() {
    assert_golden(
        "anthropic/request_full.anthropic.json",
        encode("anthropic/request_full.openai.json", false),
    );
}

#[test]
fn minimal_streaming_request_gets_the_default_max_tokens() {
    assert_golden(
        "anthropic/request_minimal.anthropic.json",
        encode("anthropic/request_minimal.openai.json", true),
    );
}

#[test]
fn responses() {
    for name in [
        "response_tool_use",
        "response_text_cached",
        "response_thinking",
    ] {
        let body = text(&format!("anthropic/{name}.anthropic.json"));
        let decoded = response::decode(body.as_bytes(), None).unwrap();
        assert_golden(&format!("anthropic/{name}.openai.json"), decoded);
    }
}

#[test]
fn streams() {
    for name in ["stream_text", "stream_tool_use", "stream_thinking"] {
        let sse = text(&format!("anthropic/{name}.sse"));
        let events = decode_text(&mut StreamDecoder::new(true, 0), &sse).unwrap();
        assert_golden(
            &format!("anthropic/{name}.chunks.json"),
            events_json(&events),
        );
    }
}

#[test]
fn stream_without_usage_request_has_no_usage_chunk() {
    let sse = text("anthropic/stream_text.sse");
    let events = decode_text(&mut StreamDecoder::new(false, 0), &sse).unwrap();
    let last = events_json(&events)
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
}

#[test]
fn stream_error_event_fails_with_the_vendor_status() {
    let sse = text("anthropic/stream_error.sse");
    match decode_text(&mut StreamDecoder::new(true, 0), &sse) {
        Err(ProviderError::Status {
            status: 529,
            message,
            ..
        }) => assert_eq!(message, "Overloaded"),
        other => panic!("{other:?}"),
    }
}
