//! Gemini model paths (`/v1beta/models/{model}:{method}`): the model is a resource name that
//! may hold `/` and `:` (raw or percent-encoded), the method is what follows the path's last
//! colon. Any path routes without panicking, and a model path's model, percent-encoded into a
//! path again, routes back to the same route and model; any model, put into a path of any
//! method, comes back out exactly.
//!
//! Input: one selector byte (method, API version), then the path or the model as UTF-8.
#![no_main]

use gateway_app::fuzzing::{GEMINI_METHODS, route};
use http::Method;
use libfuzzer_sys::fuzz_target;

/// Percent-encodes every byte but RFC 3986's unreserved ones.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);

    // Any path, as received.
    for method in [Method::POST, Method::GET, Method::DELETE] {
        let Some((pattern, model)) = route(&method, &text) else {
            continue;
        };
        let Some((prefix, tail)) = pattern.split_once("{model}") else {
            continue;
        };
        assert!(text.starts_with(prefix), "{text} is not under {pattern}");
        if let Some(suffix) = tail.strip_prefix(':') {
            assert!(
                text.ends_with(&format!(":{suffix}")),
                "{text} routed to {pattern}"
            );
            let rebuilt = format!("{prefix}{}:{suffix}", encode(&model));
            assert_eq!(
                route(&method, &rebuilt),
                Some((pattern, model.clone())),
                "{text} -> {rebuilt}"
            );
        }
    }

    // Any model, in the path of any method.
    let method = GEMINI_METHODS[usize::from(selector) % GEMINI_METHODS.len()];
    let version = if selector & 0x80 == 0 {
        "/v1beta"
    } else {
        "/v1"
    };
    let pattern = format!("{version}/models/{{model}}:{method}");
    let expect = |path: &str| {
        let (got, model) = route(&Method::POST, path).unwrap_or_else(|| panic!("{path} unrouted"));
        assert_eq!(got, pattern, "{path}");
        assert_eq!(model, text, "{path}");
    };
    expect(&format!("{version}/models/{}:{method}", encode(&text)));
    // Google's SDKs send `/` and `:` of a model raw: without `%`, nothing is decoded.
    if !text.contains('%') {
        expect(&format!("{version}/models/{text}:{method}"));
    }
});
