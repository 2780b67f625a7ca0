//! The quick path of language detection: a vote of function words ("the", "und", "que",
//! "và", ...) over the first words of a Latin-script text. `whatlang` scores every text
//! against a 300-trigram profile per candidate language — some 4,000 hash lookups however
//! short the text, tens of microseconds — so the classifier and the quality scorers ask this
//! vote first and call `whatlang` only when it is not clear-cut (few function words, two
//! languages close, or letters of another script).
//!
//! Function words are the most frequent words of a language and nearly all short, so a
//! dozen of them decide a sentence; a word shared by several languages ("de", "la", "a")
//! splits its vote among them.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Languages of the vote (ISO 639-1), in bit order: the Latin-script languages of the
/// detector's allowlist.
const LANGS: [&str; 13] = [
    "en", "fr", "de", "es", "pt", "it", "nl", "pl", "cs", "sv", "tr", "vi", "id",
];

/// Function words of each language of [`LANGS`] (lower case), same order.
const WORDS: [&[&str]; 13] = [
    &[
        "the", "and", "of", "to", "is", "are", "that", "this", "with", "you", "your", "what",
        "how", "can", "be", "have", "has", "please", "would", "could", "should", "which", "there",
        "their", "was", "were", "from", "about", "an", "my", "me", "for", "on", "it", "will", "do",
        "does", "not", "why", "when", "where", "who", "we", "our", "they", "them", "these",
        "those", "into", "than", "then", "some", "any", "also", "very", "its", "but", "or", "if",
        "all", "one", "by", "at", "as",
    ],
    &[
        "le", "la", "les", "des", "du", "une", "un", "et", "est", "que", "qui", "pour", "pas",
        "dans", "sur", "avec", "ce", "cette", "ces", "je", "vous", "nous", "il", "elle", "ils",
        "mon", "ma", "mes", "au", "aux", "sont", "être", "peux", "pourquoi", "comment", "quel",
        "quelle", "très", "plus", "ne", "de", "en", "votre", "leur", "mais", "ou", "où", "tu",
        "moi", "faire", "peut", "entre",
    ],
    &[
        "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "einen", "einem", "mit", "zu",
        "den", "dem", "des", "von", "ich", "sie", "du", "wie", "was", "warum", "bitte", "auf",
        "für", "auch", "es", "sind", "kann", "können", "mir", "mich", "dir", "über", "oder",
        "aber", "wir", "im", "ihr", "ihre", "wird", "werden", "sich", "dass", "noch", "nach",
        "bei", "aus", "um", "an", "zum", "zur",
    ],
    &[
        "el", "los", "las", "y", "que", "es", "en", "por", "para", "con", "una", "un", "del", "al",
        "se", "no", "lo", "como", "qué", "cómo", "puedes", "está", "este", "esta", "mi", "su",
        "sus", "más", "muy", "pero", "yo", "tú", "usted", "la", "de", "le", "ser", "hay", "son",
        "entre", "sobre", "cuál", "también", "porque",
    ],
    &[
        "o", "os", "a", "as", "e", "do", "da", "dos", "das", "em", "um", "uma", "que", "não",
        "para", "com", "por", "se", "no", "na", "nos", "você", "é", "são", "como", "mais", "muito",
        "meu", "minha", "pode", "isso", "este", "esta", "de", "ao", "também", "sobre", "entre",
        "porque", "seu", "sua",
    ],
    &[
        "il", "lo", "la", "i", "gli", "le", "di", "e", "che", "è", "un", "una", "per", "con",
        "non", "sono", "del", "della", "dei", "delle", "nel", "nella", "al", "alla", "come",
        "perché", "puoi", "questo", "questa", "mi", "ti", "ci", "anche", "più", "ho", "ha", "da",
        "in", "si", "ma", "tra", "su", "cosa",
    ],
    &[
        "de", "het", "een", "en", "van", "is", "dat", "die", "niet", "op", "te", "met", "voor",
        "zijn", "ik", "je", "wat", "hoe", "waarom", "kun", "kunt", "ook", "maar", "er", "naar",
        "deze", "dit", "wij", "we", "om", "uit", "bij", "wordt", "worden", "jij", "mijn", "in",
    ],
    &[
        "i", "w", "z", "na", "się", "nie", "to", "jest", "że", "do", "jak", "co", "czy", "dla",
        "o", "po", "proszę", "mi", "mnie", "są", "ale", "ten", "ta", "tak", "od", "przez", "jaki",
        "jaka", "który", "która", "oraz", "może",
    ],
    &[
        "a", "je", "v", "se", "na", "to", "že", "s", "z", "o", "jak", "co", "pro", "jsem", "jsou",
        "není", "do", "by", "ale", "prosím", "mi", "tak", "k", "ve", "od", "které", "který", "jsi",
        "mám", "být", "také",
    ],
    &[
        "och", "att", "det", "som", "en", "är", "på", "för", "med", "inte", "jag", "du", "har",
        "till", "av", "om", "kan", "vad", "hur", "varför", "den", "ett", "de", "ni", "vi", "men",
        "var", "eller", "mig", "också", "skulle",
    ],
    &[
        "bir", "ve", "bu", "da", "de", "ne", "için", "ile", "mi", "mı", "çok", "ben", "sen",
        "nasıl", "neden", "var", "yok", "gibi", "olan", "daha", "ama", "şu", "bana", "olarak",
        "veya", "nedir", "kadar",
    ],
    &[
        "và", "của", "là", "có", "không", "được", "cho", "một", "những", "các", "với", "này",
        "trong", "người", "tôi", "bạn", "làm", "gì", "sao", "như", "để", "khi", "thì", "về",
    ],
    &[
        "yang",
        "dan",
        "di",
        "ke",
        "dari",
        "ini",
        "itu",
        "dengan",
        "untuk",
        "tidak",
        "ada",
        "saya",
        "anda",
        "apa",
        "bagaimana",
        "kenapa",
        "mengapa",
        "bisa",
        "akan",
        "juga",
        "atau",
        "dalam",
        "pada",
        "kamu",
        "adalah",
    ],
];

/// Words read at most; the instruction at the start decides.
const MAX_WORDS: usize = 64;
/// Longest function word in bytes (longer words are skipped unread).
const MAX_WORD_BYTES: usize = 24;
/// Share of the letters read that must be Latin for the vote to decide.
const MIN_LATIN: f32 = 0.9;
/// Reading stops once the leader has this many votes and this many times the runner-up's
/// (beyond either margin below: the rest of the text would not change the answer).
const DECIDED_VOTES: f32 = 8.0;
const DECIDED_RATIO: f32 = 4.0;

/// How sure the vote must be.
#[derive(Debug, Clone, Copy)]
pub(super) struct Margin {
    /// Votes of the leading language.
    pub min_votes: f32,
    /// The leader's votes over the runner-up's.
    pub min_ratio: f32,
}

/// A guess (the classifier's language of a prompt).
pub(super) const GUESS: Margin = Margin {
    min_votes: 1.25,
    min_ratio: 2.5,
};
/// A reliable answer (the quality scorer calls a language wrong only on one).
pub(super) const RELIABLE: Margin = Margin {
    min_votes: 4.0,
    min_ratio: 3.0,
};

fn table() -> &'static HashMap<&'static str, u16, foldhash::fast::FixedState> {
    static TABLE: OnceLock<HashMap<&'static str, u16, foldhash::fast::FixedState>> =
        OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0x9e37));
        for (bit, words) in WORDS.iter().enumerate() {
            for word in *words {
                *map.entry(*word).or_insert(0u16) |= 1 << bit;
            }
        }
        map
    })
}

fn is_latin(c: char) -> bool {
    c < '\u{0250}' || ('\u{1E00}'..='\u{1EFF}').contains(&c)
}

/// The language the function words of `text` name with `margin`, or `None` when the vote
/// is not clear (the caller then asks `whatlang`). Reads at most [`MAX_WORDS`] words of
/// `text` (already cut to a bounded prefix by the caller), and stops early once one
/// language leads by far; ASCII is read byte by byte; allocates nothing.
pub(super) fn vote(text: &str, margin: Margin) -> Option<&'static str> {
    let mut ballot = Ballot::default();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            i += 1;
            if b.is_ascii_alphabetic() {
                ballot.latin += 1;
                ballot.push(&[b.to_ascii_lowercase()]);
                continue;
            }
        } else {
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            if c.is_alphabetic() {
                if is_latin(c) {
                    ballot.latin += 1;
                } else {
                    ballot.other += 1;
                }
                for l in c.to_lowercase() {
                    let mut enc = [0u8; 4];
                    ballot.push(l.encode_utf8(&mut enc).as_bytes());
                }
                continue;
            }
        }
        if ballot.end_word() {
            break;
        }
    }
    ballot.end_word();
    ballot.result(margin)
}

/// The vote in progress: the word being read, the votes so far, the letters seen.
#[derive(Default)]
struct Ballot {
    word: [u8; MAX_WORD_BYTES],
    len: usize,
    overflow: bool,
    words: usize,
    votes: [f32; LANGS.len()],
    latin: u32,
    other: u32,
}

impl Ballot {
    fn push(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > MAX_WORD_BYTES {
            self.overflow = true;
        } else if !self.overflow {
            self.word[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }

    /// Counts the word just read; `true` when reading can stop (enough words, or one
    /// language far ahead).
    fn end_word(&mut self) -> bool {
        if self.len == 0 && !self.overflow {
            return false;
        }
        if !self.overflow
            && let Ok(word) = std::str::from_utf8(&self.word[..self.len])
            && let Some(&mask) = table().get(word)
        {
            let share = 1.0 / mask.count_ones() as f32;
            for (bit, v) in self.votes.iter_mut().enumerate() {
                if mask & (1 << bit) != 0 {
                    *v += share;
                }
            }
        }
        self.len = 0;
        self.overflow = false;
        self.words += 1;
        let (_, first, second) = self.leaders();
        self.words >= MAX_WORDS || (first >= DECIDED_VOTES && first >= second * DECIDED_RATIO)
    }

    /// The leading language's index, its votes and the runner-up's.
    fn leaders(&self) -> (usize, f32, f32) {
        let (mut best, mut first, mut second) = (0, 0f32, 0f32);
        for (i, v) in self.votes.iter().enumerate() {
            if *v > first {
                (second, first, best) = (first, *v, i);
            } else if *v > second {
                second = *v;
            }
        }
        (best, first, second)
    }

    fn result(&self, margin: Margin) -> Option<&'static str> {
        let (latin, other) = (self.latin as f32, self.other as f32);
        if self.latin == 0 || latin < (latin + other) * MIN_LATIN {
            return None;
        }
        let (best, first, second) = self.leaders();
        (first >= margin.min_votes && first >= second * margin.min_ratio).then_some(LANGS[best])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_sentences_are_told() {
        let cases = [
            ("Say hello to the benchmark.", "en"),
            (
                "Could you explain how the tides work and why there are two a day?",
                "en",
            ),
            (
                "Peux-tu m'expliquer pourquoi le ciel est bleu pendant la journée ?",
                "fr",
            ),
            (
                "Kannst du mir erklären, warum der Himmel am Tag blau ist?",
                "de",
            ),
            (
                "¿Puedes explicarme por qué el cielo es azul durante el día?",
                "es",
            ),
            (
                "Você pode me explicar por que o céu é azul durante o dia?",
                "pt",
            ),
            (
                "Puoi spiegarmi perché il cielo è blu durante il giorno?",
                "it",
            ),
            ("Kun je uitleggen waarom de lucht overdag blauw is?", "nl"),
            ("Tại sao bầu trời có màu xanh và không phải màu đỏ?", "vi"),
        ];
        for (text, want) in cases {
            assert_eq!(vote(text, GUESS), Some(want), "{text}");
        }
    }

    #[test]
    fn unclear_or_other_scripts_are_left_to_whatlang() {
        assert_eq!(vote("Hello!", GUESS), None);
        assert_eq!(vote("", GUESS), None);
        assert_eq!(vote("Объясни, почему небо голубое днём?", GUESS), None);
        assert_eq!(vote("为什么天空是蓝色的？", GUESS), None);
        // Two function words are a guess, not a reliable answer.
        assert_eq!(vote("Say hello to the benchmark.", RELIABLE), None);
        // A word longer than the buffer is skipped, not cut into a function word.
        let long = format!("{}the", "x".repeat(40));
        assert_eq!(vote(&long, GUESS), None);
    }

    #[test]
    fn the_table_is_lower_case_and_short() {
        for words in WORDS {
            for w in words {
                assert_eq!(w.to_lowercase(), *w);
                assert!(w.len() <= MAX_WORD_BYTES);
            }
        }
    }
}
