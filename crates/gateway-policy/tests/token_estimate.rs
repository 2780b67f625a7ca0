//! The token estimate's error on the committed corpus (`corpus/token_estimate.jsonl`, counts by
//! tiktoken's o200k and cl100k tables): the corpus is checked against the real tokenizer, and
//! the estimate's total ratio and mean absolute error per sample must stay within the floors
//! published in docs/limits.md ("Token estimate").

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::collections::BTreeSet;

use gateway_policy::limits::TokenCount;
use gateway_policy::limits::estimate::{Family, text_tokens};
use serde_json::Value;

fn corpus() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/token_estimate.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (total ratio, mean absolute relative error) of the estimate against `field`'s real counts.
fn errors(rows: &[Value], family: Family, field: &str) -> (f64, f64) {
    let (mut est_sum, mut real_sum, mut rel_sum) = (0u64, 0u64, 0.0);
    for row in rows {
        let real = row[field].as_u64().unwrap();
        let est = text_tokens(row["text"].as_str().unwrap(), family, TokenCount::Estimate);
        est_sum += est;
        real_sum += real;
        rel_sum += est.abs_diff(real) as f64 / real as f64;
    }
    (
        est_sum as f64 / real_sum as f64,
        rel_sum / rows.len() as f64,
    )
}

#[test]
fn the_corpus_is_varied_and_counted_by_the_real_tokenizers() {
    let rows = corpus();
    assert!(rows.len() >= 150, "{} samples", rows.len());
    let kinds: BTreeSet<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    for needed in [
        "prose-en",
        "code-rust",
        "code-python",
        "json-compact",
        "cjk-zh",
        "cjk-ja",
        "cyrillic",
        "arabic",
        "emoji",
        "numbers",
        "urls",
        "chat-tools",
    ] {
        assert!(kinds.contains(needed), "no {needed} samples");
    }
    let o200k = tiktoken_rs::o200k_base_singleton();
    let cl100k = tiktoken_rs::cl100k_base_singleton();
    for row in &rows {
        let text = row["text"].as_str().unwrap();
        assert_eq!(
            row["o200k"].as_u64().unwrap() as usize,
            o200k.encode_ordinary(text).len()
        );
        assert_eq!(
            row["cl100k"].as_u64().unwrap() as usize,
            cl100k.encode_ordinary(text).len()
        );
    }
}

#[test]
fn the_estimate_stays_within_its_published_error() {
    let rows = corpus();
    // (family, field, total ratio range, mean absolute error at most): docs/limits.md.
    for (family, field, ratio_range, max_mean) in [
        (Family::O200k, "o200k", 0.95..=1.10, 0.10),
        (Family::Cl100k, "cl100k", 0.95..=1.10, 0.11),
    ] {
        let (ratio, mean) = errors(&rows, family, field);
        eprintln!(
            "{field}: total ratio {ratio:.3}x, mean abs error {:.1} %",
            mean * 100.0
        );
        assert!(ratio_range.contains(&ratio), "{field}: ratio {ratio:.3}");
        assert!(mean <= max_mean, "{field}: mean abs error {mean:.3}");
    }
}
