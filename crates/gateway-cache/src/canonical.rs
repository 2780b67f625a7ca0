//! Canonical JSON: object keys sorted by their bytes, no whitespace, integral floats written as
//! integers. Two values that mean the same JSON always encode the same bytes, whatever order
//! the caller sent the keys in and whether or not `serde_json` preserves insertion order.

use std::io::Write;

use serde_json::{Number, Value};

/// Write `value` canonically. Errors of `out` are ignored: callers write into a hasher.
pub(crate) fn write_canonical<W: Write>(out: &mut W, value: &Value) {
    match value {
        Value::Null => put(out, b"null"),
        Value::Bool(true) => put(out, b"true"),
        Value::Bool(false) => put(out, b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            put(out, b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    put(out, b",");
                }
                write_canonical(out, item);
            }
            put(out, b"]");
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            put(out, b"{");
            for (i, (name, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    put(out, b",");
                }
                write_string(out, name);
                put(out, b":");
                write_canonical(out, item);
            }
            put(out, b"}");
        }
    }
}

fn put<W: Write>(out: &mut W, bytes: &[u8]) {
    let _ = out.write_all(bytes);
}

fn write_string<W: Write>(out: &mut W, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

/// `1`, `1.0` and `1e0` are the same number: integral values within f64's exact range are
/// written as integers, everything else in serde_json's shortest round-trip form.
fn write_number<W: Write>(out: &mut W, n: &Number) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.is_f64()
        && let Some(f) = n.as_f64()
        && f.fract() == 0.0
        && f.abs() < EXACT
    {
        // Exact: |f| < 2^53 and integral. `-0.0` becomes `0`.
        let _ = write!(out, "{}", f as i64);
        return;
    }
    let _ = serde_json::to_writer(&mut *out, n);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(v: &Value) -> String {
        let mut out = Vec::new();
        write_canonical(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn objects_are_sorted_at_every_depth() {
        let v = json!({"b": {"y": 1, "x": [ {"d": null, "c": "é\n"} ]}, "a": false});
        assert_eq!(
            canonical(&v),
            r#"{"a":false,"b":{"x":[{"c":"é\n","d":null}],"y":1}}"#
        );
    }

    #[test]
    fn integral_floats_equal_integers() {
        assert_eq!(canonical(&json!(1.0)), canonical(&json!(1)));
        assert_eq!(canonical(&json!(-0.0)), "0");
        assert_eq!(canonical(&json!(0.25)), "0.25");
        assert_eq!(canonical(&json!(u64::MAX)), u64::MAX.to_string());
    }
}
