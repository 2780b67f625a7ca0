//! The `Prefer` request header (RFC 7240): whether the caller prefers `respond-async`. Each
//! header line holds comma-separated preferences, each a token with an optional `=value`
//! and `;`-separated parameters; values may be quoted strings (which may hold commas and
//! semicolons). Preference names are case-insensitive; preferences the gateway does not
//! implement (`wait`, `return`, `handling`, ...) are ignored, as the RFC allows.

use http::HeaderMap;

/// Whether any `Prefer` header of `headers` holds `respond-async`.
pub fn prefers_async(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::HeaderName::from_static("prefer"))
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|line| preference_names(line).any(|n| n.eq_ignore_ascii_case("respond-async")))
}

/// The names of the preferences of one header line.
fn preference_names(line: &str) -> impl Iterator<Item = &str> {
    split_outside_quotes(line, ',').filter_map(|pref| {
        let name = pref
            .split(['=', ';'])
            .next()
            .unwrap_or_default()
            .trim_matches([' ', '\t']);
        (!name.is_empty()).then_some(name)
    })
}

/// `s` split at `sep` where it is not inside a quoted string (`\` escapes in quotes).
fn split_outside_quotes(s: &str, sep: char) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn prefer(lines: &[&str]) -> bool {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append("prefer", HeaderValue::from_str(l).unwrap());
        }
        prefers_async(&h)
    }

    #[test]
    fn respond_async_is_found_among_other_preferences() {
        assert!(prefer(&["respond-async"]));
        assert!(prefer(&["Respond-Async"]));
        assert!(prefer(&["respond-async, wait=10"]));
        assert!(prefer(&["wait=10,respond-async"]));
        assert!(prefer(&["return=minimal", " respond-async ; foo=bar"]));
        assert!(prefer(&["handling=lenient; x=\"a,b\", respond-async"]));
        assert!(prefer(&["\trespond-async\t"]));
    }

    #[test]
    fn other_preferences_and_lookalikes_are_not_respond_async() {
        assert!(!prefer(&[]));
        assert!(!prefer(&[""]));
        assert!(!prefer(&["wait=10"]));
        assert!(!prefer(&["respond-asynchronously"]));
        assert!(!prefer(&["x-respond-async"]));
        // Inside a quoted value, it is a value, not a preference.
        assert!(!prefer(&["foo=\"a, respond-async\""]));
        assert!(!prefer(&["foo=\"a\\\", respond-async\""]));
        // A parameter of another preference is not a preference.
        assert!(!prefer(&["return=minimal; respond-async"]));
        assert!(!prefer(&["return=respond-async"]));
    }

    #[test]
    fn a_header_that_is_not_text_is_ignored() {
        let mut h = HeaderMap::new();
        h.append(
            "prefer",
            HeaderValue::from_bytes(b"respond-async\xff").unwrap(),
        );
        h.append("prefer", HeaderValue::from_static("wait=1"));
        assert!(!prefers_async(&h));
    }
}
