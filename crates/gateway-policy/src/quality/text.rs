//! The text checks: refusal phrases, repetition, and the bounds of what is read.

use aho_corasick::AhoCorasick;

/// Bytes of an answer the repetition check reads.
pub const SCAN_BYTES: usize = 16 * 1024;
/// Bytes at the start of an answer searched for a refusal phrase.
const REFUSAL_ZONE: usize = 300;
/// Answers shorter than this are not compared by language (detection guesses on them).
pub const MIN_LANGUAGE_BYTES: usize = 80;
/// Word n-grams of the repetition check.
const NGRAM: usize = 4;
/// Below this many n-grams the text is too short to call repetitive.
const MIN_NGRAMS: usize = 24;
/// Repetitive: fewer than this share of the n-grams are distinct.
const MIN_DISTINCT: f32 = 0.4;

/// Phrases that open a refusal (lower case; matched ASCII-case-insensitively near the start).
const REFUSALS: &[&str] = &[
    "i'm sorry, but i can't",
    "i'm sorry, but i cannot",
    "i am sorry, but i cannot",
    "i'm sorry, i can't",
    "sorry, i can't help",
    "sorry, but i can't help",
    "i can't help with",
    "i cannot help with",
    "i can't assist with",
    "i cannot assist with",
    "i can't comply",
    "i cannot comply",
    "i can't provide",
    "i cannot provide",
    "i'm unable to help",
    "i am unable to help",
    "i'm unable to assist",
    "i'm not able to help",
    "i won't be able to help",
    "i must decline",
    "i have to decline",
    "as an ai language model, i cannot",
    "as an ai, i cannot",
    "je ne peux pas vous aider",
    "lo siento, pero no puedo",
    "ich kann dir dabei nicht helfen",
    "ich kann ihnen dabei nicht helfen",
];

/// Words of a prompt that asks for a translation (the answer's language may then differ).
pub const TRANSLATION_CUES: &[&str] = &[
    "translat",
    "traduire",
    "tradu",
    "übersetz",
    "ubersetz",
    "in english",
    "into english",
    "en français",
    "auf deutsch",
    "en español",
    "vertaal",
    "przetłumacz",
    "переведи",
    "翻译",
    "翻訳",
    "번역",
];

/// The refusal phrases, each with a straight and a typographic apostrophe.
pub fn refusal_phrases() -> Vec<String> {
    let mut out = Vec::with_capacity(REFUSALS.len() * 2);
    for phrase in REFUSALS {
        out.push((*phrase).to_owned());
        if phrase.contains('\'') {
            out.push(phrase.replace('\'', "\u{2019}"));
        }
    }
    out
}

/// A prefix of `text` of at most `max` bytes, cut on a char boundary.
pub fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Whether a refusal phrase opens `text` (within its first [`REFUSAL_ZONE`] bytes).
pub fn starts_with_refusal(refusals: &AhoCorasick, text: &str) -> bool {
    refusals.is_match(prefix(text.trim_start(), REFUSAL_ZONE))
}

/// Whether `text` loops: among its word 4-grams (in the first [`SCAN_BYTES`]), fewer than
/// 40 % are distinct. Words are hashed, not copied; for text without spaces (CJK, a
/// character repeated) the 4-grams are of 3-character pieces.
pub fn is_repetitive(text: &str) -> bool {
    let text = prefix(text, SCAN_BYTES);
    let words: Vec<u64> = if text.split_whitespace().nth(MIN_NGRAMS).is_some() {
        text.split_whitespace().map(hash).collect()
    } else {
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .step_by(3)
            .chain(std::iter::once(text.len()))
            .collect();
        bounds.windows(2).map(|b| hash(&text[b[0]..b[1]])).collect()
    };
    if words.len() < MIN_NGRAMS + NGRAM {
        return false;
    }
    let mut grams: Vec<u64> = words
        .windows(NGRAM)
        .map(|w| w.iter().fold(0u64, |acc, h| acc.rotate_left(17) ^ h))
        .collect();
    let total = grams.len();
    grams.sort_unstable();
    grams.dedup();
    (grams.len() as f32) < total as f32 * MIN_DISTINCT
}

fn hash(word: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(0x51_7cc1_b727_220a).build_hasher();
    h.write(word.as_bytes());
    h.finish()
}
