//! A whole upstream answer (status, headers, body) through each vendor's response, embeddings,
//! models and error decoders. The first byte picks the status; then `name: value` header
//! lines up to an empty line; the rest is the body.
#![no_main]

use gateway_providers::fuzzing::{Vendor, decode_answer};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 8] = [200, 400, 401, 404, 429, 500, 503, 529];

fn split_head(input: &[u8]) -> (HeaderMap, &[u8]) {
    let mut headers = HeaderMap::new();
    let mut rest = input;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.is_empty() {
            break;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = HeaderName::from_bytes(&line[..colon]);
            let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
            if let (Ok(name), Ok(value)) = (name, value) {
                headers.append(name, value);
            }
        }
    }
    (headers, rest)
}

fuzz_target!(|input: &[u8]| {
    let [status, rest @ ..] = input else {
        return;
    };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    let (headers, body) = split_head(rest);
    let _ = gateway_providers::client::retry_after(&headers);
    for vendor in Vendor::ALL {
        decode_answer(vendor, status, &headers, body);
    }
});
