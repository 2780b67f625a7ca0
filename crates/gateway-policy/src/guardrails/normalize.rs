//! Text normalisation for the word-level detectors (injection and moderation).
//!
//! Each character of the original text is folded on its own: compatibility decomposition
//! (the "K" of NFKC: full-width, circled, mathematical and ligature forms become plain
//! letters), combining marks dropped (`ï` -> `i`), lower-cased, common Cyrillic and Greek
//! look-alikes mapped to Latin (`о` -> `o`), invisible characters (zero-width spaces and
//! joiners, soft hyphens, bidi controls, variation selectors) removed without splitting the
//! word, and Unicode "tag" characters (used to smuggle invisible ASCII) turned back into
//! the ASCII they encode. Text is then cut into words of letters and digits; everything else
//! separates words, which collapses whitespace and punctuation. In [`Fold::Leet`] mode
//! (injection only) the digits and symbols of a word that also contains letters are folded
//! (`1gn0r3` -> `ignore`, `$` -> `s`), and `l` is folded onto `i` so that `1` can stand for
//! either; keyword lists are folded the same way, so matching stays consistent.
//!
//! Because folding is per character, every word keeps the byte span of the original text it
//! came from ([`Token::start`], [`Token::end`]): findings of the word-level detectors point
//! into the original text, not into the normalised one.

use std::cell::RefCell;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// How far to fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// Unicode folding and lower-casing only (moderation).
    Words,
    /// Also leetspeak (injection).
    Leet,
}

/// One normalised word and the byte span of the original text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte range of the word in [`Normalized::squashed`].
    pub norm_start: usize,
    pub norm_end: usize,
    /// Byte range in the original text.
    pub start: usize,
    pub end: usize,
}

/// The words of a text, normalised, concatenated without separators (the "squashed" form),
/// with their spans. Reused between calls to avoid allocation.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    text: String,
    tokens: Vec<Token>,
    /// Scratch space for callers (word-class masks of the injection detector).
    pub(crate) masks: Vec<u128>,
}

impl Normalized {
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    pub fn token_text(&self, t: &Token) -> &str {
        self.text.get(t.norm_start..t.norm_end).unwrap_or_default()
    }

    /// All words concatenated without separators: `"i g n o r e"` and `"ig-nore"` both
    /// contain `"ignore"` here.
    pub fn squashed(&self) -> &str {
        &self.text
    }

    /// The words joined by single spaces.
    pub fn joined(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.tokens.len());
        for (i, t) in self.tokens.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(self.token_text(t));
        }
        out
    }

    /// Index of the token containing squashed byte `pos`.
    pub fn token_index_at(&self, pos: usize) -> Option<usize> {
        let i = self.tokens.partition_point(|t| t.norm_end <= pos);
        (i < self.tokens.len()).then_some(i)
    }
}

/// Normalises `text` into `out` (cleared first).
pub fn normalize_into(text: &str, fold: Fold, out: &mut Normalized) {
    out.text.clear();
    out.tokens.clear();
    let mut b = Builder {
        out,
        text,
        fold,
        active: false,
        start: 0,
        end: 0,
        norm_start: 0,
        has_letter: false,
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte.is_ascii() {
            b.ascii(byte, i);
            i += 1;
            continue;
        }
        let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        let end = i + c.len_utf8();
        if is_invisible(c) || (c == '\u{2019}' && b.active) {
            // dropped without splitting the word
        } else if let Some(ascii) = tag_to_ascii(c) {
            b.emit(ascii.to_ascii_lowercase(), i, end);
        } else {
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) {
                    for l in d.to_lowercase() {
                        b.emit(confusable(l), i, end);
                    }
                }
            });
        }
        i = end;
    }
    b.flush();
}

/// Runs `f` over the normalised form of `text`, reusing a per-thread buffer.
pub(crate) fn with_normalized<R>(
    text: &str,
    fold: Fold,
    f: impl FnOnce(&mut Normalized) -> R,
) -> R {
    thread_local! {
        static POOL: RefCell<Vec<Normalized>> = const { RefCell::new(Vec::new()) };
    }
    let mut n = POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default();
    normalize_into(text, fold, &mut n);
    let r = f(&mut n);
    if n.text.capacity() <= 64 * 1024 {
        POOL.with(|p| {
            let mut pool = p.borrow_mut();
            if pool.len() < 4 {
                pool.push(n);
            }
        });
    }
    r
}

/// The normalised words of `text` joined by single spaces (no leetspeak folding):
/// `normalize("Ｉｇｎｏｒｅ  ALL\u{200b}previous")` is `"ignore allprevious"`.
pub fn normalize(text: &str) -> String {
    let mut n = Normalized::default();
    normalize_into(text, Fold::Words, &mut n);
    n.joined()
}

/// Folds a keyword the way [`normalize_into`] folds text (words concatenated).
pub(crate) fn fold_keyword(keyword: &str, fold: Fold) -> String {
    let mut n = Normalized::default();
    normalize_into(keyword, fold, &mut n);
    n.text
}

struct Builder<'a> {
    out: &'a mut Normalized,
    text: &'a str,
    fold: Fold,
    active: bool,
    start: usize,
    end: usize,
    norm_start: usize,
    has_letter: bool,
}

impl Builder<'_> {
    /// The hot path: one ASCII byte.
    #[inline]
    fn ascii(&mut self, byte: u8, i: usize) {
        let lower = byte.to_ascii_lowercase();
        let leet_mode = self.fold == Fold::Leet;
        if lower.is_ascii_alphanumeric() || (leet_mode && matches!(lower, b'@' | b'$' | b'|')) {
            if !self.active {
                self.active = true;
                self.start = i;
                self.has_letter = false;
                self.norm_start = self.out.text.len();
            }
            self.has_letter |= lower.is_ascii_alphabetic();
            let folded = if leet_mode {
                leet(char::from(lower))
            } else {
                char::from(lower)
            };
            self.out.text.push(folded);
            self.end = i + 1;
        } else if !(byte == b'\'' && self.active) {
            self.flush(); // an apostrophe inside a word is dropped: "don't" -> "dont"
        }
    }

    fn emit(&mut self, c: char, start: usize, end: usize) {
        let word = c.is_alphanumeric() || (self.fold == Fold::Leet && matches!(c, '@' | '$' | '|'));
        if !word {
            self.flush();
            return;
        }
        if !self.active {
            self.active = true;
            self.start = start;
            self.has_letter = false;
            self.norm_start = self.out.text.len();
        }
        self.has_letter |= c.is_alphabetic();
        // Leetspeak is folded eagerly; a word that turns out to have no letter is rewritten
        // from the original text when it ends.
        self.out
            .text
            .push(if self.fold == Fold::Leet { leet(c) } else { c });
        self.end = end;
    }

    fn flush(&mut self) {
        if !self.active {
            return;
        }
        self.active = false;
        let out = &mut *self.out;
        if self.fold == Fold::Leet && !self.has_letter {
            out.text.truncate(self.norm_start);
            let original = self.text.get(self.start..self.end).unwrap_or_default();
            for c in original.chars() {
                decompose_compatible(c, |d| {
                    if d.is_alphanumeric() {
                        out.text.push(d);
                    }
                });
            }
        }
        if out.text.len() > self.norm_start {
            out.tokens.push(Token {
                norm_start: self.norm_start,
                norm_end: out.text.len(),
                start: self.start,
                end: self.end,
            });
        }
    }
}

fn leet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' | 'l' | '|' | '!' => 'i',
        '2' => 'z',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '6' | '9' => 'g',
        '7' => 't',
        '8' => 'b',
        other => other,
    }
}

/// Characters that render as nothing and are dropped without splitting a word.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E001F}' | '\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

/// Unicode tag characters U+E0020..U+E007E mirror printable ASCII invisibly.
fn tag_to_ascii(c: char) -> Option<char> {
    let v = c as u32;
    (0xE0020..=0xE007E)
        .contains(&v)
        .then(|| char::from_u32(v - 0xE0000))
        .flatten()
}

/// Lower-case Cyrillic, Greek and other letters that look like Latin ones.
fn confusable(c: char) -> char {
    match c {
        'а' | 'α' => 'a',
        'в' | 'β' | 'ь' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'ε' | 'є' => 'e',
        'ɡ' => 'g',
        'һ' | 'н' => 'h',
        'і' | 'ї' | 'ι' | 'ı' | 'ӏ' => 'i',
        'ј' | 'ϳ' => 'j',
        'к' | 'κ' => 'k',
        'м' => 'm',
        'η' | 'п' => 'n',
        'о' | 'ο' | 'օ' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'г' => 'r',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' | 'ս' => 'u',
        'ν' | 'ѵ' => 'v',
        'ԝ' | 'ω' | 'ш' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' | 'ү' => 'y',
        'ζ' => 'z',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, fold: Fold) -> String {
        let mut n = Normalized::default();
        normalize_into(text, fold, &mut n);
        n.joined()
    }

    #[test]
    fn folds_width_case_marks_confusables_and_invisibles() {
        assert_eq!(normalize("ＩＧＮＯＲＥ  All"), "ignore all");
        assert_eq!(normalize("Ign\u{43e}re \u{430}ll"), "ignore all");
        assert_eq!(normalize("ig\u{200b}no\u{00ad}re"), "ignore");
        assert_eq!(normalize("ìgnórè ⓘⓖⓝⓞⓡⓔ"), "ignore ignore");
        assert_eq!(normalize("don't  stop\n\tnow"), "dont stop now");
        assert_eq!(normalize("\u{E0069}\u{E0067}\u{E006E}"), "ign");
    }

    #[test]
    fn leet_folds_only_words_with_letters() {
        assert_eq!(
            words("1gn0r3 4ll pr3v10u5 ru135, order 2024", Fold::Leet),
            "ignore aii previous ruies order 2024"
        );
        assert_eq!(words("p@$$word", Fold::Leet), "password");
        assert_eq!(words("$100", Fold::Leet), "100");
    }

    #[test]
    fn tokens_map_back_to_original_bytes() {
        let text = "héllo  ＷＯＲＬＤ!";
        let mut n = Normalized::default();
        normalize_into(text, Fold::Words, &mut n);
        let spans: Vec<&str> = n.tokens().iter().map(|t| &text[t.start..t.end]).collect();
        assert_eq!(spans, ["héllo", "ＷＯＲＬＤ"]);
        assert_eq!(n.squashed(), "helloworld");
        assert_eq!(n.token_index_at(6), Some(1));
    }
}
