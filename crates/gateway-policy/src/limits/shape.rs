//! The shape-based token estimate: a text's counts of words, letters, digit groups,
//! punctuation, whitespace runs, CJK characters and symbol bytes, combined with coefficients
//! fitted per tokenizer on the committed corpus (`corpus/token_estimate.jsonl`, fitted by
//! `corpus/fit_token_estimate.py`; errors in docs/limits.md). It needs no tables: one pass
//! over the text, no allocation. The features follow how BPE pre-tokenizers split text
//! (letter runs, digits in groups of three, punctuation runs, whitespace runs), so a
//! linear combination tracks the real count across prose, code, JSON and scripts.

/// Number of features.
pub const FEATURES: usize = 11;

/// Feature names, in coefficient order (the fit script and the corpus tool print them).
pub const NAMES: [&str; FEATURES] = [
    "words",
    "ascii_letters",
    "other_letters",
    "case_changes",
    "digit_groups",
    "punct",
    "punct_runs",
    "newline_runs",
    "space_runs",
    "cjk",
    "symbol_bytes",
];

/// Coefficients fitted on the corpus against tiktoken's o200k_base (on its 190 samples:
/// total ratio 1.000x, mean abs error 7.5 %, median 5.3 %, max 51.2 %).
pub const O200K: [f64; FEATURES] = [
    0.8097, 0.0578, 0.1736, 1.2208, 1.2656, 0.1419, 0.5669, 1.0378, 1.0943, 0.6883, 0.4391,
];
/// Coefficients fitted on the corpus against tiktoken's cl100k_base (on its 190 samples:
/// total ratio 0.994x, mean abs error 8.8 %, median 5.4 %, max 46.5 %).
pub const CL100K: [f64; FEATURES] = [
    1.0266, 0.0154, 0.4994, 1.3197, 1.2267, 0.1255, 0.5662, 1.0454, 0.7763, 1.0489, 0.6649,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Digit,
    Punct,
    Space,
    Cjk,
    Symbol,
}

/// Feature counts of one or more texts (each text scanned apart).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Shape {
    counts: [u64; FEATURES],
}

impl Shape {
    /// The counts, in [`NAMES`] order.
    pub fn counts(&self) -> [u64; FEATURES] {
        self.counts
    }

    /// Add the features of `text`.
    pub fn add(&mut self, text: &str) {
        let c = &mut self.counts;
        let mut prev: Option<Class> = None;
        let mut prev_lower = false;
        let mut digits = 0u64;
        let mut space_len = 0u64;
        let mut space_newline = false;
        for ch in text.chars() {
            let class = classify(ch);
            if prev == Some(Class::Digit) && class != Class::Digit {
                c[4] += digits.div_ceil(3);
                digits = 0;
            }
            if prev == Some(Class::Space) && class != Class::Space {
                end_space(c, space_len, space_newline);
                space_len = 0;
                space_newline = false;
            }
            let starts = prev != Some(class);
            match class {
                Class::Letter => {
                    if starts {
                        c[0] += 1;
                    }
                    if ch.is_ascii() {
                        c[1] += 1;
                        if prev_lower && ch.is_ascii_uppercase() {
                            c[3] += 1;
                        }
                    } else {
                        c[2] += 1;
                    }
                }
                Class::Digit => digits += 1,
                Class::Punct => {
                    c[5] += 1;
                    if starts {
                        c[6] += 1;
                    }
                }
                Class::Space => {
                    space_len += 1;
                    space_newline |= ch == '\n' || ch == '\r';
                }
                Class::Cjk => c[9] += 1,
                Class::Symbol => c[10] += ch.len_utf8() as u64,
            }
            prev_lower = ch.is_ascii_lowercase();
            prev = Some(class);
        }
        c[4] += digits.div_ceil(3);
        end_space(c, space_len, space_newline);
    }

    /// Add another shape's counts.
    pub fn merge(&mut self, other: &Shape) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
    }

    /// The estimated tokens under `coefficients`, at least one per non-empty text's worth.
    pub fn tokens(&self, coefficients: &[f64; FEATURES]) -> f64 {
        self.counts
            .iter()
            .zip(coefficients)
            .map(|(&n, &k)| n as f64 * k)
            .sum::<f64>()
            .max(0.0)
    }
}

/// A whitespace run ends: a run with a line break is (at least) one token, a run of two or
/// more blanks (indentation) is one; a single blank merges into the next word.
fn end_space(c: &mut [u64; FEATURES], len: u64, newline: bool) {
    if newline {
        c[7] += 1;
    } else if len >= 2 {
        c[8] += 1;
    }
}

fn classify(ch: char) -> Class {
    if ch.is_ascii() {
        return match ch {
            'a'..='z' | 'A'..='Z' => Class::Letter,
            '0'..='9' => Class::Digit,
            ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c' => Class::Space,
            _ => Class::Punct,
        };
    }
    let u = ch as u32;
    let cjk = matches!(u,
        0x1100..=0x11FF       // Hangul Jamo
        | 0x2E80..=0x2FDF     // CJK radicals
        | 0x3000..=0x303F     // CJK punctuation
        | 0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3130..=0x318F     // Hangul compatibility Jamo
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF00..=0xFFEF     // half- and full-width forms
        | 0x20000..=0x3FFFF); // CJK extensions B-H
    if cjk {
        Class::Cjk
    } else if ch.is_alphabetic() {
        Class::Letter
    } else if ch.is_numeric() {
        Class::Digit
    } else if ch.is_whitespace() {
        Class::Space
    } else {
        Class::Symbol
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(text: &str) -> [u64; FEATURES] {
        let mut s = Shape::default();
        s.add(text);
        s.counts()
    }

    #[test]
    fn features_follow_the_pre_tokenizer_splits() {
        // words, ascii letters, other letters, case changes, digit groups, punct, punct
        // runs, newline runs, space runs, cjk, symbol bytes
        assert_eq!(
            counts("Hello, worldWide 12345!\n\n  x"),
            [3, 15, 0, 1, 2, 2, 2, 1, 0, 0, 0]
        );
        assert_eq!(counts("Привет 東京 😀"), [1, 0, 6, 0, 0, 0, 0, 0, 0, 2, 4]);
        assert_eq!(counts("a    b"), [2, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(counts(""), [0; FEATURES]);
    }
}
