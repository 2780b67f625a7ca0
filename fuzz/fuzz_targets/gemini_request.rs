//! A Gemini request body (`generateContent`, `streamGenerateContent`, `countTokens`,
//! `embedContent`, `batchEmbedContents`), decoded as the edge decodes it. A body is refused
//! with a 400 (never another status, never a panic) or becomes a canonical request for the
//! path's model, with messages (the stream flag as the method says), which survives the
//! trip through the canonical JSON unchanged.
//!
//! Input: one selector byte (the method), then the body.
#![no_main]

use gateway_app::fuzzing::{GEMINI_METHODS, GeminiCall, decode_gemini};
use gateway_core::ChatRequest;
use libfuzzer_sys::fuzz_target;

const MODEL: &str = "ollama/llama3:8b";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let method = GEMINI_METHODS[usize::from(selector) % GEMINI_METHODS.len()];
    match decode_gemini(method, MODEL, body) {
        Err(err) => assert_eq!(err.status(), 400, "{method}: {err}"),
        Ok(GeminiCall::Chat(req)) => {
            assert_eq!(req.model, MODEL);
            assert_eq!(req.stream, method == "streamGenerateContent");
            assert!(!req.messages.is_empty(), "{method}: no messages");
            let json = serde_json::to_vec(&req).expect("a canonical request serializes");
            let again: ChatRequest =
                gateway_app::http::body::parse_json(&json).expect("the canonical JSON decodes");
            assert_eq!(again, *req, "{}", String::from_utf8_lossy(&json));
        }
        Ok(GeminiCall::Embeddings(req)) => {
            assert_eq!(req.model, MODEL);
            assert!(!req.input.is_null(), "{method}: no input");
            serde_json::to_vec(&req).expect("an embeddings request serializes");
        }
    }
});
