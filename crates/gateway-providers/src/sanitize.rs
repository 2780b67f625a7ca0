//! Upstream error messages are shown to callers only after this: truncated, with every known
//! secret masked by exact value (`gateway_core::secret_mask`: the configured API keys, caller
//! credentials) and anything that looks like a credential masked by pattern — a whole word, or
//! a piece of one glued to others by `=`, `:`, `&`, quotes or a percent escape (`auth=sk-…`,
//! `Bearer%20…`). Raw upstream bodies are never forwarded.

use gateway_core::secret_mask::{REDACTED, mask};

/// Longest upstream message passed on.
const MAX_MESSAGE: usize = 300;

/// Mask credential-looking words and cap the length.
pub fn sanitize_upstream_message(message: &str) -> String {
    let message = mask(message);
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE + 16));
    for (i, word) in message.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        mask_word(word, &mut out);
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

/// Appends `word`, masked whole when it looks like a credential, else piece by piece.
fn mask_word(word: &str, out: &mut String) {
    if looks_secret(word) {
        out.push_str(REDACTED);
        return;
    }
    let bytes = word.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let sep = separator_len(&bytes[i..]);
        if sep == 0 {
            i += 1;
            continue;
        }
        // separators are ASCII: `start` and `i` are char boundaries
        push_piece(&word[start..i], out);
        out.push_str(&word[i..i + sep]);
        i += sep;
        start = i;
    }
    push_piece(&word[start..], out);
}

fn push_piece(piece: &str, out: &mut String) {
    if looks_secret(piece) {
        out.push_str(REDACTED);
    } else {
        out.push_str(piece);
    }
}

/// The length of the separator `bytes` starts with (0 when none): punctuation that glues a
/// credential to a name, or a percent escape such as `%20`.
fn separator_len(bytes: &[u8]) -> usize {
    match bytes {
        [b'%', a, b, ..] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => 3,
        [
            b'=' | b':' | b'&' | b',' | b';' | b'"' | b'\'' | b'(' | b')' | b'[' | b']' | b'{'
            | b'}' | b'<' | b'>' | b'/' | b'?' | b'`',
            ..,
        ] => 1,
        _ => 0,
    }
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

    #[test]
    fn masks_credentials_glued_to_other_words() {
        for (message, kept) in [
            ("bad key:sk-abc123XYZ789", "bad key:"),
            ("invalid request auth=sk-proj-abc123XYZ&model=x", "&model=x"),
            ("Authorization:Bearer%20sk-abc123XYZ789", "Bearer%20"),
            ("token=\"AKIAIOSFODNN7EXAMPLE1234567\"", "token="),
        ] {
            let m = sanitize_upstream_message(message);
            assert!(
                !m.contains("abc123") && !m.contains("AKIA"),
                "{message} -> {m}"
            );
            assert!(m.contains(REDACTED) && m.contains(kept), "{message} -> {m}");
        }
        assert_eq!(
            sanitize_upstream_message("model=gpt-4o: bad value (max 1.0)"),
            "model=gpt-4o: bad value (max 1.0)"
        );
    }

    #[test]
    fn masks_known_secrets_by_exact_value() {
        let key = "plainlookingsecretvalue";
        gateway_core::secret_mask::set_known_secrets([key]);
        let m = sanitize_upstream_message(&format!("echo:{key}!"));
        assert_eq!(m, format!("echo:{REDACTED}!"));
    }
}
