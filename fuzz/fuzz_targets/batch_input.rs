//! A Batch API input file (JSONL), checked line by line as the batch worker validates an
//! upload before anything is sent upstream, for each endpoint a batch may name.
#![no_main]

use gateway_app::batches::validate::{Checker, errors_object};
use libfuzzer_sys::fuzz_target;

const ENDPOINTS: [&str; 3] = ["/v1/chat/completions", "/v1/embeddings", "/v1/responses"];

fuzz_target!(|file: &[u8]| {
    for endpoint in ENDPOINTS {
        let mut checker = Checker::new(endpoint);
        for (n, line) in file.split(|b| *b == b'\n').enumerate() {
            let _ = checker.check(n as u64 + 1, line);
        }
        let _ = errors_object(&checker.errors);
    }
});
