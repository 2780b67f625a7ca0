//! An upstream event stream through each vendor's stream decoder.
#![no_main]

use gateway_providers::fuzzing::{Vendor, decode_stream};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for vendor in Vendor::ALL {
        if let Ok(events) = decode_stream(vendor, text) {
            for event in events {
                let _ = serde_json::to_vec(&format!("{event:?}"));
            }
        }
    }
});
