//! The local prompt classifier: task, language, size, features and difficulty of a request
//! ([`RequestFeatures`]), for routing rules and quality scoring. It is a weighted bag of cues
//! (one Aho-Corasick pass over the last user turn, [`cues::CUES`]) plus a few structural
//! signals (code fences and punctuation, digits and operators), with cues in the instruction
//! zone — the start and the end of the turn — counting double so that a pasted document does
//! not outvote the request about it. No model file, no I/O; the cost is linear in the prompt
//! and is measured by `cargo xtask bench` (the guardrail cost table).
//!
//! Its accuracy on the labelled set in `tests/data/prompts_*.jsonl` is tested by
//! `tests/classifier_eval.rs` and published in docs/routing.md.

pub mod cues;
pub(crate) mod lang;
mod words;

use aho_corasick::{AhoCorasick, MatchKind};
use gateway_core::features::{PromptClassifier, RequestFeatures, TaskType};
use gateway_core::gateway::estimate_prompt_tokens;
use gateway_core::types::{ChatRequest, Content, Role};

use crate::Error;

/// Bytes at each end of the user turn where a cue counts double.
const INSTRUCTION_ZONE: usize = 240;
/// Below this best score, the prompt is conversation.
const MIN_SCORE: f32 = 2.5;
/// The system prompt's cues count this much of the user turn's.
const SYSTEM_WEIGHT: f32 = 0.5;
/// Texts longer than this are classified from their first and last halves of it: the
/// instruction is at one end, and the cost stays bounded.
const MAX_SCAN: usize = 16 * 1024;
/// Capacity of the per-call "cue already counted" bitset (on the stack, no allocation).
const SEEN_BITS: usize = 1024;

/// The local classifier; build once, share.
#[derive(Debug)]
pub struct LocalClassifier {
    ac: AhoCorasick,
    /// Per pattern: task, weight, whether it is a stem (no boundary needed after it).
    meta: Vec<(TaskType, f32, bool)>,
}

impl LocalClassifier {
    pub fn new() -> Result<Self, Error> {
        let patterns: Vec<&str> = cues::CUES
            .iter()
            .map(|(c, _, _)| c.trim_end_matches('*'))
            .collect();
        let meta = cues::CUES
            .iter()
            .map(|(c, t, w)| (*t, *w, c.ends_with('*')))
            .collect();
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| Error::Pattern {
                name: "classifier cues",
                message: e.to_string(),
            })?;
        if cues::CUES.len() > SEEN_BITS {
            return Err(Error::Pattern {
                name: "classifier cues",
                message: format!("more than {SEEN_BITS} cues"),
            });
        }
        Ok(LocalClassifier { ac, meta })
    }

    /// The task of `text` (a user turn), with `system` as a weaker hint.
    pub fn task(&self, text: &str, system: Option<&str>) -> TaskType {
        let mut scores = [0f32; TaskType::ALL.len()];
        self.score_cues(text, 1.0, &mut scores);
        if let Some(system) = system {
            self.score_cues(system, SYSTEM_WEIGHT, &mut scores);
        }
        structural(text, &mut scores);
        let (mut best, mut best_score) = (TaskType::Conversation, MIN_SCORE);
        for (i, score) in scores.iter().enumerate() {
            if *score > best_score {
                (best, best_score) = (TaskType::ALL[i], *score);
            }
        }
        best
    }

    fn score_cues(&self, text: &str, scale: f32, scores: &mut [f32; 8]) {
        let bytes = text.as_bytes();
        // Each cue counts once per turn: a long text repeating "function" is not more code.
        let mut seen = [0u64; SEEN_BITS / 64];
        let (head, tail) = scan_window(text);
        for range in [head, tail].into_iter().flatten() {
            for m in self.ac.find_overlapping_iter(&bytes[range.clone()]) {
                let (start, end) = (range.start + m.start(), range.start + m.end());
                let id = m.pattern().as_usize();
                let (task, weight, stem) = self.meta[id];
                let (word, bit) = (id / 64, 1u64 << (id % 64));
                if seen[word] & bit != 0
                    || !boundary_before(bytes, start)
                    || (!stem && !boundary_after(bytes, end))
                {
                    continue;
                }
                seen[word] |= bit;
                let zone = start < INSTRUCTION_ZONE || end + INSTRUCTION_ZONE > bytes.len();
                let w = if zone { weight * 2.0 } else { weight };
                scores[task as usize] += w * scale;
            }
        }
    }
}

impl PromptClassifier for LocalClassifier {
    fn classify(&self, req: &ChatRequest) -> RequestFeatures {
        let user = last_text(req, Role::User).unwrap_or("");
        let system = last_text(req, Role::System).or_else(|| last_text(req, Role::Developer));
        let task = self.task(user, system);
        let tokens = estimate_prompt_tokens(req);
        let json_output = req
            .response_format
            .as_ref()
            .and_then(|f| f.get("type"))
            .and_then(|t| t.as_str())
            .is_some_and(|t| t == "json_object" || t == "json_schema");
        let images = req.messages.iter().any(|m| match &m.content {
            Some(Content::Parts(parts)) => parts
                .iter()
                .any(|p| p.image_url.is_some() || p.kind.contains("image")),
            _ => false,
        });
        RequestFeatures {
            task,
            language: lang::detect(user),
            tokens,
            tools: req.tools.as_ref().is_some_and(|t| !t.is_empty()),
            images,
            json_output,
            difficulty: difficulty(task, tokens, user),
        }
    }
}

/// The text of the last message with `role` (its first text part when it has parts).
fn last_text(req: &ChatRequest, role: Role) -> Option<&str> {
    req.messages
        .iter()
        .rev()
        .find(|m| m.role == role)
        .and_then(|m| m.content.as_ref())
        .and_then(|c| c.texts().max_by_key(|t| t.len()))
}

/// The byte ranges scanned: the whole text, or its two ends when it is very long.
fn scan_window(
    text: &str,
) -> (
    Option<std::ops::Range<usize>>,
    Option<std::ops::Range<usize>>,
) {
    if text.len() <= MAX_SCAN {
        return (Some(0..text.len()), None);
    }
    let half = MAX_SCAN / 2;
    (Some(0..half), Some(text.len() - half..text.len()))
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn boundary_before(bytes: &[u8], start: usize) -> bool {
    start == 0 || !is_word(bytes[start - 1]) || !is_word(bytes[start])
}

fn boundary_after(bytes: &[u8], end: usize) -> bool {
    end >= bytes.len() || !is_word(bytes[end]) || !is_word(bytes[end - 1])
}

/// Signals that are not words: code fences and punctuation, formulas.
fn structural(text: &str, scores: &mut [f32; 8]) {
    let bytes = &text.as_bytes()[..text.len().min(MAX_SCAN)];
    let (mut code_punct, mut digits, mut ops, mut newlines) = (0u32, 0u32, 0u32, 0u32);
    for &b in bytes {
        match b {
            b'{' | b'}' | b';' | b'(' | b')' | b'[' | b']' | b'<' | b'>' => code_punct += 1,
            b'0'..=b'9' => digits += 1,
            b'+' | b'*' | b'/' | b'^' | b'=' | b'-' | b'%' => ops += 1,
            b'\n' => newlines += 1,
            _ => {}
        }
    }
    let fences = memchr_count(bytes, b"```");
    let len = bytes.len().max(1) as f32;
    if fences >= 2 {
        scores[TaskType::Code as usize] += 2.0;
    }
    let punct = code_punct as f32 / len;
    if (punct > 0.03 && newlines >= 2) || punct > 0.08 {
        scores[TaskType::Code as usize] += 2.0;
    }
    // A formula: digits with operators, and not much else around them.
    if digits >= 2 && ops >= 1 && (digits + ops) as f32 / len > 0.06 {
        scores[TaskType::Math as usize] += 3.0;
    } else if digits >= 3 && ops >= 2 {
        scores[TaskType::Math as usize] += 0.75;
    }
}

fn memchr_count(hay: &[u8], needle: &[u8]) -> usize {
    memchr::memmem::find_iter(hay, needle).count()
}

/// The language of `text` (ISO 639-1), as the classifier tells it (quality scoring compares
/// an answer's with its prompt's).
pub fn detect_language(text: &str) -> Option<&'static str> {
    lang::detect(text)
}

/// The language of `text` when the detector is confident of it (`whatlang`'s reliability
/// test), else `None`: quality scoring flags a wrong language only on a clear difference.
pub fn detect_language_reliably(text: &str) -> Option<&'static str> {
    lang::detect_reliable(text)
}

/// 0..=1: longer, more constrained, multi-step prompts of analytical tasks are harder.
fn difficulty(task: TaskType, tokens: u64, text: &str) -> f32 {
    let base = match task {
        TaskType::Math | TaskType::Reasoning => 0.35,
        TaskType::Code => 0.3,
        TaskType::Extraction | TaskType::CreativeWriting => 0.2,
        TaskType::Translation | TaskType::Summarisation => 0.15,
        TaskType::Conversation => 0.1,
    };
    // Size: 0 at 50 tokens, +0.3 at ~8k tokens.
    let size = ((tokens.max(50) as f32 / 50.0).log2() / 7.3 * 0.3).min(0.3);
    let bytes = text.as_bytes();
    let questions = bytes.iter().filter(|&&b| b == b'?').count().min(4) as f32;
    let steps = text.lines().filter(|l| is_list_item(l)).count().min(6) as f32;
    let extra = questions * 0.03 + steps * 0.03;
    (base + size + extra).clamp(0.0, 1.0)
}

fn is_list_item(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("- ")
        || t.starts_with("* ")
        || t.as_bytes().first().is_some_and(u8::is_ascii_digit) && t.contains(". ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::types::Message;

    fn classify(text: &str) -> RequestFeatures {
        let c = LocalClassifier::new().unwrap();
        let req = ChatRequest {
            model: "auto".into(),
            messages: vec![Message::text(Role::User, text)],
            ..ChatRequest::default()
        };
        c.classify(&req)
    }

    #[test]
    fn instruction_beats_the_pasted_document() {
        let doc = "fn main() {\n    let x = compute();\n    println!(\"{x}\");\n}\n".repeat(20);
        let f = classify(&format!(
            "Summarise what this program does in two sentences:\n{doc}"
        ));
        assert_eq!(f.task, TaskType::Summarisation);
        let f = classify(&format!("Why does this not compile?\n{doc}"));
        assert_eq!(f.task, TaskType::Code);
    }

    #[test]
    fn features_come_from_the_request() {
        let c = LocalClassifier::new().unwrap();
        let req: ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "auto",
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
            ]}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
            "response_format": {"type": "json_object"}
        }))
        .unwrap();
        let f = c.classify(&req);
        assert!(f.images && f.tools && f.json_output);
        assert_eq!(f.tokens, estimate_prompt_tokens(&req));
        let plain = classify("hi");
        assert!(!plain.images && !plain.tools && !plain.json_output);
        assert_eq!(plain.task, TaskType::Conversation);
    }

    #[test]
    fn difficulty_grows_with_size_and_steps() {
        let short = classify("What is 2 + 2?").difficulty;
        let long = classify(&format!(
            "Prove that the sum of the first n odd numbers is n^2.\n1. state it\n2. base case\n3. induction\n{}",
            "Be rigorous about every step. ".repeat(200)
        ))
        .difficulty;
        assert!(short < long, "{short} < {long}");
        assert!((0.0..=1.0).contains(&long));
    }

    #[test]
    fn a_huge_prompt_is_scanned_at_its_ends() {
        let text = format!(
            "Translate into French:\n{}",
            "the cat sleeps. ".repeat(10_000)
        );
        assert_eq!(classify(&text).task, TaskType::Translation);
    }
}
