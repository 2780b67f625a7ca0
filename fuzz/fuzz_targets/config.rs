//! The configuration file (TOML), loaded and validated as at start and on reload.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = gateway_app::Config::from_toml_str(text, &|_| None, std::iter::empty());
});
