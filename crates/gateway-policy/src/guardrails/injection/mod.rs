//! Prompt-injection scoring. A prompt is normalised ([`crate::guardrails::normalize`], with
//! leetspeak folding), then weighted rules of five families fire on it: instruction
//! override, role-play/jailbreak, system-prompt extraction, delimiter tricks and encoding
//! tricks. Base64, hex and URL-escaped segments are decoded (nested ones too, see
//! `encoded.rs`) and scanned together (a hit inside base64 or hex adds a
//! `hidden_instructions` signal; more encoded text than the decoding budget adds
//! `decode_budget_exceeded`), and when the prompt mentions ROT13 or reading backwards the
//! transformed text is scanned as well. Each rule counts once; the score is the noisy-OR of
//! the weights of the rules that fired, `1 - Π(1 - wᵢ)`, compared with a threshold.
//!
//! Offsets: word rules report the span of original text from their first to their last word;
//! regex rules their match; rules that fired inside a decoded segment report the segment's
//! span; rules that fired on a ROT13/reversed transform report the whole text.
//!
//! All patterns are compiled once per process (on first use); a check allocates only for
//! what it finds.

mod lexicon;
mod rules;

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexSet, RegexSetBuilder};

use self::lexicon::{Lexicon, Mask, REVERSE_HINT, ROLE_WORD, ROT13_HINT};
use self::rules::{
    DECODE_BUDGET_RULE, HIDDEN_PAYLOAD_RULE, HIDDEN_PAYLOAD_WEIGHT, REGEX_RULES, Step, TOKEN_RULES,
};
use crate::error::Error;
use crate::guardrails::encoded::{self, Segment};
use crate::guardrails::finding::{Action, Finding};
use crate::guardrails::normalize::{Fold, Normalized, fold_keyword, with_normalized};

/// Default decision threshold, chosen by measurement on the labelled corpus
/// (`corpus/injection.jsonl`; see `docs/guardrails.md`).
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// The attack family a rule belongs to; it is the `category` of injection findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    InstructionOverride,
    RolePlay,
    PromptExtraction,
    Delimiter,
    Encoding,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::InstructionOverride => "instruction_override",
            Family::RolePlay => "roleplay",
            Family::PromptExtraction => "prompt_extraction",
            Family::Delimiter => "delimiter",
            Family::Encoding => "encoding",
        }
    }
}

/// One rule that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub family: Family,
    pub rule: &'static str,
    pub weight: f32,
    /// Byte span in the original text (see the module docs for what it covers).
    pub start: usize,
    pub end: usize,
}

/// The injection score of a text and the signals behind it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InjectionReport {
    /// `0..=1`; compare with the configured threshold.
    pub score: f32,
    pub signals: Vec<Signal>,
}

impl InjectionReport {
    /// One finding per family that contributed, naming that family's strongest rule and
    /// carrying the message's combined score.
    pub fn findings(&self, action: Action) -> Vec<Finding> {
        let mut best: Vec<&Signal> = Vec::new();
        for s in &self.signals {
            match best.iter_mut().find(|b| b.family == s.family) {
                Some(b) if s.weight > b.weight => *b = s,
                Some(_) => {}
                None => best.push(s),
            }
        }
        best.sort_by_key(|s| s.family);
        best.into_iter()
            .map(|s| Finding {
                guardrail: "injection",
                category: s.family.as_str().to_owned(),
                rule: s.rule.to_owned(),
                score: self.score,
                start: s.start,
                end: s.end,
                action,
            })
            .collect()
    }
}

struct Compiled {
    lexicon: Lexicon,
    regex_set: RegexSet,
    regexes: Vec<Regex>,
    /// Every squashed phrase (a few thousand literals) in one automaton; pattern `i` stands
    /// for token rule `squashed_rules[i]`.
    squashed: AhoCorasick,
    squashed_rules: Vec<usize>,
    segments: &'static Regex,
    /// Per word class (bit of [`Mask`]), the token rules (bits) any of whose sequences can
    /// start with it: only rules that a class present in the text can start are tried.
    rules_by_first_class: Vec<u128>,
}

const RULE_COUNT: usize = TOKEN_RULES.len() + REGEX_RULES.len() + 2;
const HIDDEN_INDEX: usize = RULE_COUNT - 2;
const BUDGET_INDEX: usize = RULE_COUNT - 1;
const _: () = assert!(RULE_COUNT <= 128, "fired rules are tracked in a u128");

static COMPILED: LazyLock<Result<Compiled, Error>> = LazyLock::new(compile);

fn compile() -> Result<Compiled, Error> {
    let err = |e: regex::Error| Error::Pattern {
        name: "injection",
        message: e.to_string(),
    };
    let patterns: Vec<&str> = REGEX_RULES.iter().map(|(_, _, p)| *p).collect();
    // The delimiter patterns are ASCII (template tokens, role names, brackets): matching
    // them without Unicode classes and case folding keeps the compiled set ~60 KiB instead
    // of ~4 MiB, which was most of the gateway's idle memory.
    let regex_set = RegexSetBuilder::new(&patterns)
        .case_insensitive(true)
        .unicode(false)
        .build()
        .map_err(err)?;
    let regexes = patterns
        .iter()
        .map(|p| {
            regex::RegexBuilder::new(p)
                .case_insensitive(true)
                .unicode(false)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let mut phrases = Vec::new();
    let mut squashed_rules = Vec::new();
    for (phrase, rule) in rules::squashed_phrases() {
        let index = rules::token_rule(rule)
            .map(|(i, _)| i)
            .ok_or(Error::Pattern {
                name: "injection",
                message: format!("squashed phrase refers to unknown rule {rule}"),
            })?;
        phrases.push(fold_keyword(&phrase, Fold::Leet));
        squashed_rules.push(index);
    }
    // A contiguous NFA: about a tenth of the memory of a DFA (or of the same phrases as a
    // regex alternation, which held ~10 MiB), and fast enough on squashed prompt text.
    let squashed = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .match_kind(MatchKind::Standard)
        .build(&phrases)
        .map_err(|e| Error::Pattern {
            name: "injection",
            message: e.to_string(),
        })?;
    Ok(Compiled {
        lexicon: lexicon::build(),
        regex_set,
        regexes,
        squashed,
        squashed_rules,
        segments: encoded::candidate_regex()?,
        rules_by_first_class: rules_by_first_class(),
    })
}

fn rules_by_first_class() -> Vec<u128> {
    let mut rules = vec![0u128; Mask::BITS as usize];
    for (index, rule) in TOKEN_RULES.iter().enumerate() {
        let first = rule
            .alts
            .iter()
            .filter_map(|alt| alt.first())
            .fold(0, |classes, step| classes | step.classes);
        for class in set_bits(first) {
            rules[class] |= 1 << index;
        }
    }
    rules
}

/// The positions of the bits set in `bits`, lowest first.
fn set_bits(mut bits: u128) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let bit = (bits != 0).then(|| bits.trailing_zeros() as usize)?;
        bits &= bits - 1;
        Some(bit)
    })
}

/// The prompt-injection detector. Cheap to create and to clone: the compiled rules are
/// shared process-wide.
#[derive(Clone, Copy)]
pub struct InjectionDetector {
    c: &'static Compiled,
}

impl std::fmt::Debug for InjectionDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InjectionDetector")
            .field("rules", &RULE_COUNT)
            .finish()
    }
}

struct Acc {
    fired: u128,
    signals: Vec<Signal>,
}

impl Acc {
    fn fire(
        &mut self,
        index: usize,
        family: Family,
        rule: &'static str,
        weight: f32,
        span: (usize, usize),
    ) {
        if self.fired & (1 << index) == 0 {
            self.fired |= 1 << index;
            self.signals.push(Signal {
                family,
                rule,
                weight,
                start: span.0,
                end: span.1,
            });
        }
    }
}

impl InjectionDetector {
    pub fn new() -> Result<Self, Error> {
        match &*COMPILED {
            Ok(c) => Ok(InjectionDetector { c }),
            Err(e) => Err(Error::Pattern {
                name: "injection",
                message: e.to_string(),
            }),
        }
    }

    /// Scores `text`.
    pub fn score(&self, text: &str) -> InjectionReport {
        let mut acc = Acc {
            fired: 0,
            signals: Vec::new(),
        };
        let present = with_normalized(text, Fold::Leet, |n| self.scan_words(n, None, &mut acc));
        self.scan_regexes(text, None, &mut acc, present & ROLE_WORD != 0);

        let decoded = encoded::decode_segments(self.c.segments, text);
        let readable = decoded.segments.iter().filter(|s| s.readable);
        let (hidden, visible): (Vec<&Segment>, Vec<&Segment>) = readable.partition(|s| s.hidden);
        self.scan_segments(&hidden, true, &mut acc);
        self.scan_segments(&visible, false, &mut acc);
        if decoded.exhausted {
            acc.fire(
                BUDGET_INDEX,
                Family::Encoding,
                DECODE_BUDGET_RULE,
                HIDDEN_PAYLOAD_WEIGHT,
                (0, text.len()),
            );
        }
        let whole = Some((0, text.len()));
        if present & ROT13_HINT != 0 {
            let rotated: String = text.chars().map(rot13).collect();
            with_normalized(&rotated, Fold::Leet, |n| {
                self.scan_words(n, whole, &mut acc)
            });
        }
        if present & REVERSE_HINT != 0 {
            let reversed: String = text.chars().rev().collect();
            with_normalized(&reversed, Fold::Leet, |n| {
                self.scan_words(n, whole, &mut acc)
            });
        }
        let keep = acc.signals.iter().fold(1.0f32, |k, s| k * (1.0 - s.weight));
        InjectionReport {
            score: (1.0 - keep).clamp(0.0, 1.0),
            signals: acc.signals,
        }
    }

    /// Scans decoded segments together, their texts joined by line breaks (so that a
    /// payload split over several segments is seen whole), in one pass whatever their
    /// number. Signals report the span of the segments they fired in. When `hidden` (base64
    /// or hex), a rule other than an encoding one also raises `hidden_instructions`.
    fn scan_segments(&self, segments: &[&Segment], hidden: bool, acc: &mut Acc) {
        if segments.is_empty() {
            return;
        }
        let mut joined = String::new();
        let mut starts = Vec::with_capacity(segments.len());
        for seg in segments {
            if !joined.is_empty() {
                joined.push('\n');
            }
            starts.push(joined.len());
            joined.push_str(&seg.decoded);
        }
        let mut local = Acc {
            fired: 0,
            signals: Vec::new(),
        };
        let present = with_normalized(&joined, Fold::Leet, |n| {
            self.scan_words(n, None, &mut local)
        });
        self.scan_regexes(&joined, None, &mut local, present & ROLE_WORD != 0);
        // The original span of the segments holding joined bytes `start..end`.
        let span = |start: usize, end: usize| {
            let seg = |at: usize| {
                let i = starts.partition_point(|&s| s <= at).saturating_sub(1);
                segments.get(i).map(|s| (s.start, s.end))
            };
            let first = seg(start).unwrap_or((0, 0));
            let last = seg(end.saturating_sub(1)).unwrap_or(first);
            (first.0.min(last.0), first.1.max(last.1))
        };
        if let Some(s) = local
            .signals
            .iter()
            .find(|s| hidden && s.family != Family::Encoding)
        {
            let at = span(s.start, s.end);
            acc.fire(
                HIDDEN_INDEX,
                Family::Encoding,
                HIDDEN_PAYLOAD_RULE,
                HIDDEN_PAYLOAD_WEIGHT,
                at,
            );
        }
        for s in local.signals {
            let index = rule_index(s.rule);
            acc.fire(index, s.family, s.rule, s.weight, span(s.start, s.end));
        }
    }

    /// Word rules and squashed phrases; returns the union of word classes present.
    fn scan_words(&self, n: &mut Normalized, span: Option<(usize, usize)>, acc: &mut Acc) -> Mask {
        let mut masks = std::mem::take(&mut n.masks);
        masks.clear();
        let mut present: Mask = 0;
        for t in n.tokens() {
            let m = self.c.lexicon.get(n.token_text(t)).copied().unwrap_or(0);
            present |= m;
            masks.push(m);
        }
        let tokens = n.tokens();
        let at = |first: usize, last: usize| {
            span.or_else(|| Some((tokens.get(first)?.start, tokens.get(last)?.end)))
                .unwrap_or((0, 0))
        };
        let candidates = set_bits(present)
            .filter_map(|class| self.c.rules_by_first_class.get(class))
            .fold(0, |rules, class_rules| rules | class_rules)
            & !acc.fired;
        for index in set_bits(candidates) {
            let Some(rule) = TOKEN_RULES.get(index) else {
                continue;
            };
            let hit = rule
                .alts
                .iter()
                .filter(|alt| alt.iter().all(|s| s.classes & present != 0))
                .find_map(|alt| match_sequence(&masks, alt));
            if let Some((first, last)) = hit {
                acc.fire(index, rule.family, rule.id, rule.weight, at(first, last));
            }
        }
        // The leftmost phrase of each rule that has not fired yet.
        let mut leftmost: Vec<(usize, usize, usize)> = Vec::new();
        for m in self.c.squashed.find_overlapping_iter(n.squashed()) {
            let Some(&index) = self.c.squashed_rules.get(m.pattern().as_usize()) else {
                continue;
            };
            if acc.fired & (1 << index) != 0 {
                continue;
            }
            match leftmost.iter_mut().find(|(i, _, _)| *i == index) {
                Some(best) if m.start() < best.1 => *best = (index, m.start(), m.end()),
                Some(_) => {}
                None => leftmost.push((index, m.start(), m.end())),
            }
        }
        for (index, start, end) in leftmost {
            let Some(rule) = TOKEN_RULES.get(index) else {
                continue;
            };
            let first = n.token_index_at(start).unwrap_or(0);
            let last = n.token_index_at(end.saturating_sub(1)).unwrap_or(first);
            acc.fire(index, rule.family, rule.id, rule.weight, at(first, last));
        }
        n.masks = masks;
        present
    }

    fn scan_regexes(
        &self,
        text: &str,
        span: Option<(usize, usize)>,
        acc: &mut Acc,
        role_words: bool,
    ) {
        // Every delimiter pattern needs a bracket or one of the role words.
        if !role_words && !text.bytes().any(|b| matches!(b, b'<' | b'[' | b'{')) {
            return;
        }
        for i in self.c.regex_set.matches(text).iter() {
            let (Some((id, weight, _)), Some(re)) = (REGEX_RULES.get(i), self.c.regexes.get(i))
            else {
                continue;
            };
            if let Some(m) = re.find(text) {
                let at = span.unwrap_or((m.start(), m.end()));
                acc.fire(TOKEN_RULES.len() + i, Family::Delimiter, id, *weight, at);
            }
        }
    }
}

fn rule_index(id: &str) -> usize {
    if id == HIDDEN_PAYLOAD_RULE {
        return HIDDEN_INDEX;
    }
    if id == DECODE_BUDGET_RULE {
        return BUDGET_INDEX;
    }
    rules::token_rule(id).map(|(i, _)| i).unwrap_or_else(|| {
        REGEX_RULES
            .iter()
            .position(|(r, _, _)| *r == id)
            .map_or(HIDDEN_INDEX, |i| TOKEN_RULES.len() + i)
    })
}

/// First match of a word-class sequence: `(first word, last word)`.
fn match_sequence(masks: &[Mask], steps: &[Step]) -> Option<(usize, usize)> {
    let (first, rest) = steps.split_first()?;
    masks.iter().enumerate().find_map(|(i, m)| {
        if m & first.classes == 0 {
            return None;
        }
        match_rest(masks, rest, i).map(|end| (i, end))
    })
}

fn match_rest(masks: &[Mask], steps: &[Step], prev: usize) -> Option<usize> {
    let Some((step, rest)) = steps.split_first() else {
        return Some(prev);
    };
    let end = (prev + 2 + usize::from(step.gap)).min(masks.len());
    (prev + 1..end)
        .filter(|&j| masks.get(j).is_some_and(|m| m & step.classes != 0))
        .find_map(|j| match_rest(masks, rest, j))
}

fn rot13(c: char) -> char {
    match c {
        'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
        'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
        other => other,
    }
}

#[cfg(test)]
mod tests;
