//! Upstream error messages are shown to callers only after this: truncated, and with anything
//! that looks like a credential masked. Raw upstream bodies are never forwarded.

/// Longest upstream message passed on.
const MAX_MESSAGE: usize = 300;

/// Mask credential-looking words and cap the length.
pub fn sanitize_upstream_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE + 16));
    for (i, word) in message.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if looks_secret(word) {
            out.push_str("[redacted]");
        } else {
            out.push_str(word);
        }
        if out.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}

fn looks_secret(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_');
    const PREFIXES: [&str; 8] = [
        "sk-", "sk_", "AIza", "key-", "ghp_", "xox", "Bearer", "gsk_",
    ];
    if PREFIXES.iter().any(|p| w.starts_with(p)) && w.len() > 6 {
        return true;
    }
    // Long unbroken runs of key-ish characters with digits and letters mixed.
    w.len() >= 24
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && w.chars().any(|c| c.is_ascii_digit())
        && w.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keys_and_caps_length() {
        let m =
            sanitize_upstream_message("Incorrect API key provided: sk-proj-abc123XYZ. Check it.");
        assert!(!m.contains("abc123"), "{m}");
        assert!(m.contains("Incorrect API key provided"));
        let long = "word ".repeat(200);
        assert!(sanitize_upstream_message(&long).len() <= MAX_MESSAGE + 4);
        let m = sanitize_upstream_message("token AKIAIOSFODNN7EXAMPLE1234567 leaked");
        assert!(m.contains("[redacted]"), "{m}");
        assert_eq!(
            sanitize_upstream_message("Invalid value for 'temperature'"),
            "Invalid value for 'temperature'"
        );
    }
}
