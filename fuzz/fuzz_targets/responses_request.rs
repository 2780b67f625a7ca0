//! A Responses API body (`POST /v1/responses`), decoded as the edge decodes it. A body is
//! refused with a 400 (never another status, never a panic) or becomes a canonical chat with
//! messages for the body's model; the canonical request survives the trip through its JSON,
//! and the input survives the trip a stored response makes (serialized with the response,
//! read back by the next turn's `previous_response_id`: a loss there would be a 500 later).
#![no_main]

use gateway_app::fuzzing::decode_responses;
use gateway_core::{ChatRequest, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let turn = match decode_responses(body) {
        Err(err) => {
            assert_eq!(err.status(), 400, "{err}");
            return;
        }
        Ok(turn) => turn,
    };
    // (A number beyond f64 in a field the decoder ignores is no `Value`: skip the check then.)
    if let Ok(sent) = serde_json::from_slice::<serde_json::Value>(body) {
        assert_eq!(Some(turn.chat.model.as_str()), sent["model"].as_str());
    }
    assert!(!turn.input.is_empty(), "no input");
    assert!(turn.chat.messages.len() >= turn.input.len());

    let json = serde_json::to_vec(&turn.chat).expect("a canonical request serializes");
    let again: ChatRequest =
        gateway_app::http::body::parse_json(&json).expect("the canonical JSON decodes");
    assert_eq!(again, turn.chat, "{}", String::from_utf8_lossy(&json));

    let stored = serde_json::to_string(&turn.input).expect("the input serializes");
    let read: Vec<Message> = serde_json::from_str(&stored).expect("a stored input reads back");
    assert_eq!(read, turn.input, "{stored}");
    serde_json::to_vec(&turn.input_items).expect("input items serialize");
});
