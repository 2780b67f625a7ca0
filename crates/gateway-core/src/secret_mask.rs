//! Masks secrets by exact value wherever text leaves the gateway: every log line (the log
//! writer of `gateway-telemetry` passes each formatted line through [`mask_bytes`]) and
//! every upstream message shown to a caller (`gateway_providers::sanitize`).
//!
//! Two kinds of secret are masked:
//! - **known secrets**, registered with [`set_known_secrets`] (the application registers the
//!   upstream API keys and other credentials of its configuration, again on every reload), by
//!   exact value, also in their JSON-escaped and percent-encoded forms;
//! - **caller credentials**, by shape, so that no request has to register anything: a gateway
//!   API key (`sk-gw-` and at least [`MIN_GATEWAY_KEY_BODY`] letters and digits; the short
//!   display prefix `sk-gw-AbC1` stays readable) and a JWT (`eyJ…` `.` `eyJ…` `.` signature).
//!
//! One Aho-Corasick search covers both, so a secret is found wherever it sits, glued to other
//! words (`bad key:sk-…`, `auth=…`, `Bearer%20…`). It does no I/O and costs nothing on a
//! request's path unless text is written.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, LazyLock, Mutex};

use aho_corasick::{AhoCorasick, MatchKind};
use arc_swap::ArcSwap;

/// What a masked secret is replaced with.
pub const REDACTED: &str = "[redacted]";
/// Known secrets shorter than this are not masked: they would mask ordinary words.
pub const MIN_SECRET_LEN: usize = 8;
/// Letters and digits after `sk-gw-` that make a token a gateway key (issued keys have 43).
pub const MIN_GATEWAY_KEY_BODY: usize = 20;
/// Known secrets kept: a reload adds the new configuration's, the oldest go past this.
const MAX_KNOWN: usize = 1024;

const GATEWAY_KEY_ANCHOR: &str = "sk-gw-";
const JWT_ANCHOR: &str = "eyJ";

/// The compiled search: the [`ANCHORS`] first (shapes), then the known secrets' forms.
struct Masker {
    automaton: Option<AhoCorasick>,
}

/// The prefixes of caller credentials, masked by shape (their index is their pattern id).
const ANCHORS: [&str; 2] = [GATEWAY_KEY_ANCHOR, JWT_ANCHOR];

impl Masker {
    fn new(secrets: &[String]) -> Self {
        let mut patterns: Vec<String> = ANCHORS.iter().map(|a| (*a).to_owned()).collect();
        for secret in secrets {
            for form in forms(secret) {
                if !patterns.contains(&form) {
                    patterns.push(form);
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok();
        Self { automaton }
    }

    /// `line` with every secret replaced by [`REDACTED`]; borrowed when nothing matched.
    fn mask<'a>(&self, line: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(automaton) = &self.automaton else {
            return Cow::Borrowed(line);
        };
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        for found in automaton.find_iter(line) {
            if found.start() < copied {
                continue; // inside a token already masked by its shape
            }
            let end = match found.pattern().as_usize() {
                0 => gateway_key_end(line, found.end()),
                1 => jwt_end(line, found.end()),
                _ => Some(found.end()),
            };
            let Some(end) = end else { continue };
            let buf = out.get_or_insert_with(|| Vec::with_capacity(line.len()));
            buf.extend_from_slice(&line[copied..found.start()]);
            buf.extend_from_slice(REDACTED.as_bytes());
            copied = end;
        }
        match out {
            None => Cow::Borrowed(line),
            Some(mut buf) => {
                buf.extend_from_slice(&line[copied..]);
                Cow::Owned(buf)
            }
        }
    }
}

/// The forms a secret can take in a log line: as is, JSON-escaped, percent-encoded.
fn forms(secret: &str) -> Vec<String> {
    if secret.len() < MIN_SECRET_LEN {
        return Vec::new();
    }
    let mut forms = vec![secret.to_owned()];
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(secret);
    let encoded = percent_encode(secret);
    for form in [json.to_owned(), encoded] {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn run_end(line: &[u8], from: usize, allowed: impl Fn(u8) -> bool) -> usize {
    line[from..]
        .iter()
        .position(|&b| !allowed(b))
        .map_or(line.len(), |n| from + n)
}

/// The end of a gateway key whose `sk-gw-` ends at `body`, if the token has a key's shape.
fn gateway_key_end(line: &[u8], body: usize) -> Option<usize> {
    let end = run_end(line, body, |b| b.is_ascii_alphanumeric());
    (end - body >= MIN_GATEWAY_KEY_BODY).then_some(end)
}

/// The end of a JWT whose `eyJ` ends at `after_anchor`: three base64url segments.
fn jwt_end(line: &[u8], after_anchor: usize) -> Option<usize> {
    let b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let header_end = run_end(line, after_anchor, b64);
    if line.get(header_end) != Some(&b'.') {
        return None;
    }
    let payload_end = run_end(line, header_end + 1, b64);
    if payload_end - (header_end + 1) < 4 || line.get(payload_end) != Some(&b'.') {
        return None;
    }
    Some(run_end(line, payload_end + 1, b64))
}

/// The registered secrets, oldest first, and the search compiled from them.
struct Known {
    secrets: Mutex<VecDeque<String>>,
    masker: ArcSwap<Masker>,
}

static KNOWN: LazyLock<Known> = LazyLock::new(|| Known {
    secrets: Mutex::new(VecDeque::new()),
    masker: ArcSwap::from_pointee(Masker::new(&[])),
});

/// Adds `secrets` to the values masked in every log line (empty and short ones are
/// ignored). Secrets registered earlier stay masked — a key removed by a reload may still
/// appear in the lines of calls that started before it — up to the last 1024.
pub fn set_known_secrets<I, S>(secrets: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut known = KNOWN
        .secrets
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut changed = false;
    for secret in secrets {
        let secret = secret.as_ref();
        if secret.len() < MIN_SECRET_LEN {
            continue;
        }
        if let Some(at) = known.iter().position(|s| s == secret) {
            // Most recently registered last, so that the oldest leave first.
            if let Some(kept) = known.remove(at) {
                known.push_back(kept);
            }
            continue;
        }
        known.push_back(secret.to_owned());
        changed = true;
        while known.len() > MAX_KNOWN {
            known.pop_front();
        }
    }
    if changed {
        let list: Vec<String> = known.iter().cloned().collect();
        KNOWN.masker.store(Arc::new(Masker::new(&list)));
    }
}

/// [`mask`] over bytes (a formatted log line); borrowed when nothing matched.
pub fn mask_bytes(line: &[u8]) -> Cow<'_, [u8]> {
    KNOWN.masker.load().mask(line)
}

/// `line` with every known secret and caller credential replaced by `[redacted]`.
pub fn mask(line: &str) -> Cow<'_, str> {
    match mask_bytes(line.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(line),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-proj-Abc123Def456Ghi789";

    fn masked(secrets: &[&str], line: &str) -> String {
        let secrets: Vec<String> = secrets.iter().map(|s| (*s).to_owned()).collect();
        let bytes = Masker::new(&secrets).mask(line.as_bytes()).into_owned();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn known_secrets_are_masked_wherever_they_sit() {
        for line in [
            format!("bad key:{KEY}"),
            format!("auth={KEY}&x=1"),
            format!("Authorization: Bearer%20{KEY}"),
            format!("{{\"error\":\"key{KEY}\"}}"),
            format!("{KEY}{KEY}"),
        ] {
            let out = masked(&[KEY], &line);
            assert!(!out.contains("Abc123"), "{line} -> {out}");
            assert!(out.contains(REDACTED), "{out}");
        }
    }

    #[test]
    fn escaped_and_encoded_forms_are_masked() {
        let key = "pa ss\"word/+=42";
        let json = serde_json::to_string(&format!("x{key}y")).unwrap();
        assert!(!masked(&[key], &json).contains("word"), "{json}");
        let encoded = format!("q={}", percent_encode(key));
        assert_eq!(masked(&[key], &encoded), format!("q={REDACTED}"));
    }

    #[test]
    fn caller_credentials_are_masked_by_shape() {
        let gateway_key = "sk-gw-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg";
        let out = masked(&[], &format!("key={gateway_key}, prefix sk-gw-AbCd"));
        assert_eq!(out, format!("key={REDACTED}, prefix sk-gw-AbCd"));
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl";
        assert_eq!(
            masked(&[], &format!("token:{jwt}.")),
            format!("token:{REDACTED}.")
        );
        // base64 JSON that is no JWT stays
        assert_eq!(masked(&[], "eyJhIjoxfQ== end"), "eyJhIjoxfQ== end");
    }

    #[test]
    fn lines_without_secrets_are_borrowed_and_short_secrets_ignored() {
        let secrets = vec!["short".to_owned(), KEY.to_owned()];
        let masker = Masker::new(&secrets);
        let line = b"a short line without anything";
        assert!(matches!(masker.mask(line), Cow::Borrowed(_)));
    }

    #[test]
    fn registered_secrets_are_masked_by_the_global_mask() {
        let key = "sk-ant-Registered0Key1For2The3Global4Test";
        assert_eq!(mask(&format!("x={key}")), format!("x={key}"));
        set_known_secrets([key, "", "tiny"]);
        assert_eq!(mask(&format!("x={key}")), format!("x={REDACTED}"));
        // registering others keeps earlier ones
        set_known_secrets(["another-secret-value-0123"]);
        assert_eq!(mask(&format!("x={key}")), format!("x={REDACTED}"));
    }
}
