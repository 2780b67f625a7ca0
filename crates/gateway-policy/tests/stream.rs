//! Stream scanning: matches spanning chunks are caught before any of their bytes are
//! released, and benign text comes out complete and unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

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
    // Each finding counted once for the call's usage record, though the overlap rescans it.
    let found = s.found();
    assert_eq!(found.count, 2);
    assert_eq!(found.kinds.to_text().as_deref(), Some("pii"));
}

#[test]
fn window_comes_from_the_config() {
    let mut cfg = GuardrailConfig::default();
    cfg.stream.window_bytes = 16;
    let mut s = StreamScanner::new(Arc::new(Guardrails::new(&cfg).unwrap()));
    assert_eq!(s.push(&"a".repeat(40)).release.len(), 24);
}

#[test]
fn benign_prose_streams_word_by_word() {
    let words = ["Hello!", " You", " said:", " Tell", " me", " a", " story."];
    let mut s = scanner();
    let mut released = String::new();
    for (i, word) in words.iter().enumerate() {
        released.push_str(&s.push(word).release);
        let all_but_last: String = words[..i].concat();
        assert!(
            released.len() >= all_but_last.len(),
            "after {word:?}: released only {released:?}"
        );
    }
    released.push_str(&s.finish().release);
    assert_eq!(released, words.concat());
    // Chunks that end in whitespace (as most tokenizers emit them) are released whole.
    let mut s = scanner();
    assert_eq!(s.push("Hello! ").release, "Hello! ");
    assert_eq!(s.push("You said: ").release, "You said: ");
}

/// Sensitive values of every entity, each blocked or redacted by the secure defaults.
const SENSITIVE: [&str; 20] = [
    "AKIAIOSFODNN7EXAMPLE",
    "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_AbC-dEf",
    "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_AbCdEf",
    "ghp_1234567890abcdefghijklmnopqrstuvwxyz",
    "xoxb-1234567890-0987654321-AbCdEfGhIjKl",
    "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "jane.doe@example.com",
    "+1 (415) 555-2671",
    "(415) 555-2671",
    "020 7946 0958",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "DE89 3704 0044 0532 0130 00",
    "123-45-6789",
    "192.168.1.20",
    "2001:db8:85a3::8a2e:370:7334",
];

/// Streams `chunks` and checks, after every push, that what was released is a prefix of what
/// the whole-text verdict allows out: the redacted text, or the text before the blocking
/// match. So no character of a blocked or redacted match is released before it is decided.
fn assert_released_safely(guards: &Arc<Guardrails>, text: &str, chunks: &[&str], label: &str) {
    let verdict = guards.check_output(text);
    let (allowed, blocked) = match verdict.blocking_finding() {
        Some(f) => (text[..f.start].to_owned(), Some(f.category.clone())),
        None => (
            verdict.redacted.clone().unwrap_or_else(|| text.to_owned()),
            None,
        ),
    };
    let mut s = StreamScanner::new(guards.clone());
    let mut released = String::new();
    let mut stopped = None;
    for chunk in chunks.iter().map(|c| Some(*c)).chain([None]) {
        let step = match chunk {
            Some(c) => s.push(c),
            None => s.finish(),
        };
        released.push_str(&step.release);
        assert!(
            allowed.starts_with(&released),
            "{label}: released {released:?}, allowed {allowed:?}"
        );
        if let Some(f) = step.blocked {
            stopped = Some(f.category);
            break;
        }
    }
    assert_eq!(stopped, blocked, "{label}");
    if blocked.is_none() {
        assert_eq!(released, allowed, "{label}");
    }
}

fn char_splits(text: &str) -> impl Iterator<Item = usize> + '_ {
    (1..text.len()).filter(|&i| text.is_char_boundary(i))
}

#[test]
fn no_sensitive_character_is_released_before_the_match_is_decided() {
    let guards = Arc::new(Guardrails::secure_default().unwrap());
    for value in SENSITIVE {
        for text in [
            format!("Sure, here: {value}. Anything else?"),
            format!("Sure: {value}"),
            format!("{value} is it"),
        ] {
            assert_ne!(guards.check_output(&text).action, Action::Allow, "{text}");
            for i in char_splits(&text) {
                let label = format!("{text:?} split at {i}");
                assert_released_safely(&guards, &text, &[&text[..i], &text[i..]], &label);
            }
            let chars: Vec<String> = text.chars().map(String::from).collect();
            let chars: Vec<&str> = chars.iter().map(String::as_str).collect();
            assert_released_safely(&guards, &text, &chars, &format!("{text:?} by chars"));
            let words: Vec<&str> = text.split_inclusive(' ').collect();
            assert_released_safely(&guards, &text, &words, &format!("{text:?} by words"));
        }
    }
}

#[test]
fn moderation_phrases_are_held_until_decided() {
    let cfg: GuardrailConfig = toml::from_str(
        "[moderation.categories.weapons]\nterms = [\"pipe bomb\", \"kill\"]\n\
         [moderation.categories.mild]\nterms = [\"very bad idea\"]\naction = \"redact\"\n",
    )
    .unwrap();
    let guards = Arc::new(Guardrails::new(&cfg).unwrap());
    for text in [
        "how to make a pipe bomb at home",
        "how to make a Pipe\n  Bomb",
        "then kill it",
        "this is a very bad idea indeed",
        "a pipe is not a bomb, and a very good idea",
    ] {
        for i in char_splits(text) {
            let label = format!("{text:?} split at {i}");
            assert_released_safely(&guards, text, &[&text[..i], &text[i..]], &label);
        }
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        assert_released_safely(&guards, text, &words, &format!("{text:?} by words"));
    }
}

#[test]
fn per_push_cost_of_word_by_word_streaming() {
    // A measurement, not an assertion: printed with `-- --nocapture`.
    let prose = filler(200);
    let numbers =
        "Order 4521 shipped on 2024-03-07 to bob@example.org, call 0161 496 0000. ".repeat(120);
    for (name, text) in [("prose", prose), ("numbers and addresses", numbers)] {
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        let mut s = scanner();
        let started = std::time::Instant::now();
        for w in &words {
            s.push(w);
        }
        s.finish();
        let per_push = started.elapsed() / words.len() as u32;
        println!(
            "stream scan, {name}: {} pushes, {per_push:?} per push",
            words.len()
        );
    }
}
