//! Golden-file comparison for translation tests. Fixtures live in `tests/fixtures/`; inputs are
//! the vendors' documented examples, expected outputs are reviewed JSON. Set `UPDATE_GOLDEN=1`
//! to rewrite the expected files after a deliberate change (and review the diff).
#![allow(dead_code)]

use std::path::PathBuf;

use gateway_core::StreamEvent;
use serde_json::Value;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn text(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn json(name: &str) -> Value {
    serde_json::from_str(&text(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Replace what differs between runs: timestamps and generated ids.
pub fn normalise(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                if k == "created" {
                    *x = Value::from(0);
                } else {
                    normalise(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        Value::String(s) if s.starts_with("call_") && s.len() > 12 => {
            *s = "call_<generated>".into()
        }
        Value::String(s) if s.starts_with("gemini-call_") => *s = "gemini-<generated>".into(),
        _ => {}
    }
}

/// Stream events as JSON: chunks as OpenAI chunk objects, keep-alives as `"keep-alive"`.
pub fn events_json(events: &[StreamEvent]) -> Value {
    Value::Array(
        events
            .iter()
            .map(|e| match e {
                StreamEvent::Chunk(c) => serde_json::to_value(c).unwrap(),
                StreamEvent::KeepAlive => Value::from("keep-alive"),
            })
            .collect(),
    )
}

pub fn assert_golden(name: &str, actual: impl serde::Serialize) {
    let mut actual = serde_json::to_value(actual).unwrap();
    normalise(&mut actual);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let pretty = serde_json::to_string_pretty(&actual).unwrap();
        std::fs::write(path(name), pretty + "\n").unwrap();
        return;
    }
    let expected = json(name);
    assert!(
        expected == actual,
        "{name} differs.\nexpected: {}\nactual:   {}",
        serde_json::to_string_pretty(&expected).unwrap(),
        serde_json::to_string_pretty(&actual).unwrap()
    );
}
