//! An OpenAI embeddings body: decoded as the edge decodes it, then validated.
#![no_main]

use gateway_core::types::EmbeddingsRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(req) = gateway_app::http::body::parse_json::<EmbeddingsRequest>(body) {
        let _ = req.validate();
        let _ = req.texts();
        let _ = serde_json::to_vec(&req);
    }
});
