//! A `POST /query` body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = gateway_app::fuzzing::decode_query(body);
});
