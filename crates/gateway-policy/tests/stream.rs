//! Stream scanning: matches spanning chunks are caught before any of their bytes are
//! released, and benign text comes out complete and unchanged.

use std::sync::Arc;

use gateway_policy::{Action, GuardrailConfig, Guardrails, StreamScanner};

fn scanner() -> StreamScanner {
    StreamScanner::new(Arc::new(Guardrails::secure_default().unwrap()))
}

/// Feeds `chunks`; returns everything released and the blocking finding's category.
fn run(chunks: &[&str]) -> (String, Option<String>) {
    let mut s = scanner();
    let mut released = String::new();
    for chunk in chunks {
        let step = s.push(chunk);
        released.push_str(&step.release);
        if let Some(f) = step.blocked {
            return (released, Some(f.category));
        }
    }
    let step = s.finish();
    released.push_str(&step.release);
    (released, step.blocked.map(|f| f.category))
}

fn filler(n: usize) -> String {
    "The quick brown fox jumps over the lazy dog. ".repeat(n)
}

#[test]
fn secret_split_across_two_pushes_is_blocked_before_any_of_it_is_released() {
    let prefix = filler(20); // 900 bytes: well past the 256-byte window
    for (key, category) in [
        ("AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
        (
            "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_AbC-dEf",
            "openai_api_key",
        ),
        ("ghp_1234567890abcdefghijklmnopqrstuvwxyz", "github_token"),
    ] {
        for split in 1..key.len() {
            let first = format!("{prefix}here it is: {}", &key[..split]);
            let second = format!("{} and more text after it.", &key[split..]);
            let (released, blocked) = run(&[&first, &second]);
            assert_eq!(blocked.as_deref(), Some(category), "{key} split at {split}");
            let key_start = prefix.len() + "here it is: ".len();
            assert!(
                released.len() <= key_start,
                "{key} split at {split}: released into the key"
            );
            assert!(
                first.starts_with(&released),
                "released text must be an unchanged prefix"
            );
        }
    }
}

#[test]
fn secret_fed_one_character_at_a_time_is_blocked() {
    let text = format!(
        "{}token: xoxb-1234567890-0987654321-AbCdEfGhIjKl end",
        filler(10)
    );
    let chunks: Vec<String> = text.chars().map(String::from).collect();
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let (released, blocked) = run(&refs);
    assert_eq!(blocked.as_deref(), Some("slack_token"));
    assert!(!released.contains("xoxb"));
}

#[test]
fn private_key_longer_than_the_window_is_stopped_at_its_header() {
    let body = "MIIEowIBAAKCAQEA".repeat(40);
    let text = format!(
        "{}-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----",
        filler(8)
    );
    let chunks: Vec<&str> = text
        .as_bytes()
        .chunks(50)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let (released, blocked) = run(&chunks);
    assert_eq!(blocked.as_deref(), Some("private_key"));
    assert!(!released.contains("-----BEGIN"));
}

#[test]
fn benign_text_is_released_in_full_and_unchanged() {
    let text = format!(
        "{}Grüße aus Köln — 東京 🚀 and the final words.",
        filler(30)
    );
    for size in [1usize, 3, 7, 64, 255, 256, 257, 1000, 5000] {
        let mut s = scanner();
        let mut released = String::new();
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let mut cut = size.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            let step = s.push(&rest[..cut]);
            assert!(step.blocked.is_none() && step.findings.is_empty());
            released.push_str(&step.release);
            rest = &rest[cut..];
        }
        released.push_str(&s.finish().release);
        assert_eq!(released, text, "chunk size {size}");
    }
}

#[test]
fn pii_spanning_chunks_is_redacted_in_the_released_text() {
    let text = format!(
        "{}write to jane.doe@example.com or call +1 (415) 555-2671. {}",
        filler(6),
        filler(6)
    );
    let chunks: Vec<&str> = text
        .as_bytes()
        .chunks(9)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let mut s = scanner();
    let (mut released, mut findings) = (String::new(), Vec::new());
    for c in chunks {
        let step = s.push(c);
        released.push_str(&step.release);
        findings.extend(step.findings);
    }
    let last = s.finish();
    released.push_str(&last.release);
    findings.extend(last.findings);
    let expected = format!(
        "{}write to [EMAIL] or call [PHONE]. {}",
        filler(6),
        filler(6)
    );
    assert_eq!(released, expected);
    let spans: Vec<&str> = findings.iter().map(|f| &text[f.start..f.end]).collect();
    assert_eq!(spans, ["jane.doe@example.com", "+1 (415) 555-2671"]);
    assert!(findings.iter().all(|f| f.action == Action::Redact));
}

#[test]
fn window_comes_from_the_config() {
    let mut cfg = GuardrailConfig::default();
    cfg.stream.window_bytes = 16;
    let mut s = StreamScanner::new(Arc::new(Guardrails::new(&cfg).unwrap()));
    assert_eq!(s.push(&"a".repeat(40)).release.len(), 24);
}
