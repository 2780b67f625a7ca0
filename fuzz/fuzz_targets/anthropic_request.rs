//! An Anthropic Messages body (and a count_tokens body), decoded into the canonical request.
#![no_main]

use gateway_app::dialects::anthropic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(req) = anthropic::decode_request(body) {
        let _ = req.validate();
    }
    if let Ok(req) = anthropic::decode_count_tokens_request(body) {
        let _ = anthropic::count_tokens(&req);
    }
});
