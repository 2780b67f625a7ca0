//! Heuristic quality scorers: cheap checks of each answer, run where the call is accounted
//! ([`gateway_core::quality::QualityScorer`]). Each check raises a [`QualityFlag`]; the score is
//! 1 minus the flags' penalties ([`QualityRecord::from_flags`]). The checks:
//!
//! - `truncated`: the answer stopped at the length limit (`finish_reason` `length` or
//!   `max_tokens`);
//! - `refusal`: the upstream's refusal field, or a refusal phrase at the start of the text;
//! - `empty`: no text and no tool call;
//! - `repetitive`: too few distinct word 4-grams ([`text::is_repetitive`]);
//! - `invalid_json` / `schema_violation`: JSON was requested (`response_format`) and the
//!   answer is not JSON (an object for `json_object`) or violates the `json_schema`;
//! - `tool_args_invalid`: a tool call's arguments are not JSON, violate the tool's
//!   parameter schema, or name a tool that was not offered;
//! - `wrong_language`: the answer's language, told reliably, differs from the prompt's (as the
//!   classifier tells it; not for translations, code or JSON answers).
//!
//! Work is bounded: text checks read at most [`text::SCAN_BYTES`], JSON checks are skipped
//! on answers longer than [`gateway_core::quality::SAMPLE_BYTES`]; schemas are shared and
//! compiled once ([`schemas`]), with `jsonschema` without remote or file references (none
//! are fetched).
//!
//! Cost: [`HeuristicScorer::expect`] runs on every chat call, so it only copies a bounded
//! sample of the prompt; the prompt's language is detected when an answer's language is
//! compared with it (answers of [`text::MIN_LANGUAGE_BYTES`] or more that are not code, JSON
//! or a translation), and only after the answer's own language was told reliably.

mod json;
mod schemas;
pub mod text;

use aho_corasick::AhoCorasick;
use gateway_core::features::{QualityFlag, QualityRecord, TaskType};
use gateway_core::quality::{
    AnswerView, JsonOutput, QualityExpectation, QualityScorer, SAMPLE_BYTES,
};
use gateway_core::types::{ChatRequest, Role};

use crate::Error;

/// Shorter prompts are not given a language.
const MIN_PROMPT_BYTES: usize = 20;
/// Bytes of the prompt kept for its language (what the detector reads of it).
const PROMPT_SAMPLE: usize = crate::classify::lang::PREFIX;
/// Bytes of the prompt searched for a translation request.
const TRANSLATION_SCAN: usize = 1024;

/// The heuristic scorer; build once, share.
#[derive(Debug)]
pub struct HeuristicScorer {
    refusals: AhoCorasick,
    translation: AhoCorasick,
}

impl HeuristicScorer {
    pub fn new() -> Result<Self, Error> {
        let pattern_error = |name| {
            move |e: aho_corasick::BuildError| Error::Pattern {
                name,
                message: e.to_string(),
            }
        };
        let refusals = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(text::refusal_phrases())
            .map_err(pattern_error("refusal phrases"))?;
        let translation = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(text::TRANSLATION_CUES)
            .map_err(pattern_error("translation cues"))?;
        Ok(HeuristicScorer {
            refusals,
            translation,
        })
    }

    /// Every flag `answer` raises, in [`QualityFlag::ALL`] order.
    pub fn flags(
        &self,
        expected: &QualityExpectation,
        task: Option<TaskType>,
        answer: &AnswerView<'_>,
    ) -> Vec<QualityFlag> {
        let mut flags = Vec::new();
        if matches!(answer.finish_reason, Some("length" | "max_tokens")) {
            flags.push(QualityFlag::Truncated);
        }
        let refused = answer.refusal || text::starts_with_refusal(&self.refusals, answer.text);
        if refused {
            flags.push(QualityFlag::Refusal);
        }
        let blank = answer.text.trim().is_empty();
        if blank && answer.tool_calls.is_empty() && !refused {
            flags.push(QualityFlag::Empty);
        }
        if !blank && text::is_repetitive(answer.text) {
            flags.push(QualityFlag::Repetitive);
        }
        // A truncated answer's JSON is cut: that is the truncation, not a second fault.
        let whole = answer.complete && !flags.contains(&QualityFlag::Truncated);
        let checkable = whole && !refused && answer.tool_calls.is_empty();
        if checkable
            && answer.text.len() <= SAMPLE_BYTES
            && let Some(flag) = json::check_output(&expected.json, answer.text)
        {
            flags.push(flag);
        }
        if whole && json::tool_calls_invalid(&expected.tools, &answer.tool_calls) {
            flags.push(QualityFlag::ToolArgsInvalid);
        }
        if !refused && self.wrong_language(expected, task, answer.text) {
            flags.push(QualityFlag::WrongLanguage);
        }
        flags
    }

    fn wrong_language(
        &self,
        expected: &QualityExpectation,
        task: Option<TaskType>,
        text: &str,
    ) -> bool {
        if expected.prompt_language.is_none() && expected.prompt_sample.is_none() {
            return false;
        }
        if expected.translation
            || expected.json != JsonOutput::None
            || matches!(task, Some(TaskType::Translation | TaskType::Code))
            || text.len() < text::MIN_LANGUAGE_BYTES
            || text.trim_start().starts_with("```")
        {
            return false;
        }
        // The answer first: when it cannot be told reliably, the prompt need not be told.
        let Some(answer) = crate::classify::detect_language_reliably(text) else {
            return false;
        };
        let prompt = expected.prompt_language.or_else(|| {
            expected
                .prompt_sample
                .as_deref()
                .and_then(crate::classify::detect_language)
        });
        prompt.is_some_and(|prompt| prompt != answer)
    }
}

impl QualityScorer for HeuristicScorer {
    fn expect(&self, req: &ChatRequest) -> QualityExpectation {
        let prompt = req
            .messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .and_then(|m| m.content.as_ref())
            .and_then(|c| c.texts().max_by_key(|t| t.len()))
            .unwrap_or("");
        let head = &prompt.as_bytes()[..prompt.len().min(TRANSLATION_SCAN)];
        QualityExpectation {
            json: json::requested(req.response_format.as_ref()),
            tools: req
                .tools
                .iter()
                .flatten()
                .filter_map(|t| t.function.as_ref())
                .map(|f| schemas::tool(&f.name, f.parameters.as_ref()))
                .collect(),
            prompt_language: None,
            // The language of short prompts is not told (they rarely hold enough words).
            prompt_sample: (prompt.len() >= MIN_PROMPT_BYTES)
                .then(|| Box::from(text::prefix(prompt, PROMPT_SAMPLE))),
            translation: self.translation.is_match(head),
        }
    }

    fn score(
        &self,
        expected: &QualityExpectation,
        task: Option<TaskType>,
        answer: &AnswerView<'_>,
    ) -> QualityRecord {
        QualityRecord::from_flags(self.flags(expected, task, answer))
    }
}

#[cfg(test)]
mod tests;
