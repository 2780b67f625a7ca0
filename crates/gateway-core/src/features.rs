//! What a request asks for, as routing sees it: the task, the language, the size and the
//! features of a prompt, and a difficulty estimate. [`RequestFeatures`] is produced by a
//! [`PromptClassifier`] (the local one lives in `gateway-policy`) and consumed by routing
//! rules (`gateway-providers`) and quality scoring, which is why the type lives here: siblings
//! share it without importing each other.

use serde::{Deserialize, Serialize};

use crate::types::ChatRequest;

/// The kind of work a prompt asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    /// Write, fix, explain or review source code (SQL, shell and regexes included).
    Code,
    /// Compute, solve or prove something numeric or symbolic.
    Math,
    /// Logic, planning, analysis, trade-offs, puzzles: thinking without a formula.
    Reasoning,
    /// Stories, poems, slogans, lyrics, fictional dialogue.
    CreativeWriting,
    /// Small talk, advice, open questions, anything that is none of the others.
    Conversation,
    /// Pull fields, entities or a structure out of a given text.
    Extraction,
    /// Render a given text in another language.
    Translation,
    /// Shorten a given text.
    Summarisation,
}

impl TaskType {
    /// Every task type, in a fixed order (metrics and reports iterate it).
    pub const ALL: [TaskType; 8] = [
        TaskType::Code,
        TaskType::Math,
        TaskType::Reasoning,
        TaskType::CreativeWriting,
        TaskType::Conversation,
        TaskType::Extraction,
        TaskType::Translation,
        TaskType::Summarisation,
    ];

    /// The snake_case name used in config rules, headers, metrics and the store.
    pub const fn as_str(self) -> &'static str {
        match self {
            TaskType::Code => "code",
            TaskType::Math => "math",
            TaskType::Reasoning => "reasoning",
            TaskType::CreativeWriting => "creative_writing",
            TaskType::Conversation => "conversation",
            TaskType::Extraction => "extraction",
            TaskType::Translation => "translation",
            TaskType::Summarisation => "summarisation",
        }
    }

    /// The task type named `name` ([`TaskType::as_str`]), if any.
    pub fn from_name(name: &str) -> Option<TaskType> {
        TaskType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for TaskType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The classified features of one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestFeatures {
    /// The task the last user turn asks for.
    pub task: TaskType,
    /// ISO 639-1 code of the prompt's language (`"en"`, `"fr"`, ...), `None` when the text is
    /// too short or too mixed to tell.
    pub language: Option<&'static str>,
    /// The gateway's prompt-size estimate ([`crate::gateway::estimate_prompt_tokens`]).
    pub tokens: u64,
    /// The request offers tools.
    pub tools: bool,
    /// The request carries at least one image.
    pub images: bool,
    /// The request asks for JSON output (`response_format` json_object or json_schema).
    pub json_output: bool,
    /// 0 (trivial) ..= 1 (hard): a heuristic over size, task, constraints and multi-step cues.
    pub difficulty: f32,
}

/// A problem a heuristic quality scorer found in an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityFlag {
    /// Cut off by the length limit (`finish_reason: length`).
    Truncated,
    /// The model declined.
    Refusal,
    /// No text and no tool call.
    Empty,
    /// The answer loops.
    Repetitive,
    /// JSON output was requested and the answer is not JSON.
    InvalidJson,
    /// The answer violates the JSON Schema of `response_format`.
    SchemaViolation,
    /// A tool call's arguments are not JSON or violate the tool's parameter schema.
    ToolArgsInvalid,
    /// The answer is in another language than the prompt (translations excepted).
    WrongLanguage,
}

impl QualityFlag {
    /// Every flag, in a fixed order.
    pub const ALL: [QualityFlag; 8] = [
        QualityFlag::Truncated,
        QualityFlag::Refusal,
        QualityFlag::Empty,
        QualityFlag::Repetitive,
        QualityFlag::InvalidJson,
        QualityFlag::SchemaViolation,
        QualityFlag::ToolArgsInvalid,
        QualityFlag::WrongLanguage,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            QualityFlag::Truncated => "truncated",
            QualityFlag::Refusal => "refusal",
            QualityFlag::Empty => "empty",
            QualityFlag::Repetitive => "repetitive",
            QualityFlag::InvalidJson => "invalid_json",
            QualityFlag::SchemaViolation => "schema_violation",
            QualityFlag::ToolArgsInvalid => "tool_args_invalid",
            QualityFlag::WrongLanguage => "wrong_language",
        }
    }

    /// What the flag takes off a perfect score of 1.
    pub const fn penalty(self) -> f32 {
        match self {
            QualityFlag::Empty => 1.0,
            QualityFlag::Refusal => 0.8,
            QualityFlag::InvalidJson => 0.7,
            QualityFlag::ToolArgsInvalid => 0.6,
            QualityFlag::Repetitive | QualityFlag::SchemaViolation | QualityFlag::WrongLanguage => {
                0.5
            }
            QualityFlag::Truncated => 0.4,
        }
    }
}

/// The heuristic quality of one answer: 1 minus the flags' penalties, floored at 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityRecord {
    pub score: f32,
    pub flags: Vec<QualityFlag>,
}

impl QualityRecord {
    pub fn from_flags(flags: Vec<QualityFlag>) -> Self {
        let penalty: f32 = flags.iter().map(|f| f.penalty()).sum();
        QualityRecord {
            score: (1.0 - penalty).max(0.0),
            flags,
        }
    }

    /// The flags as stored: their names joined by commas (empty when none).
    pub fn flags_text(&self) -> String {
        let names: Vec<&str> = self.flags.iter().map(|f| f.as_str()).collect();
        names.join(",")
    }

    /// The inverse of [`QualityRecord::flags_text`] (unknown names are skipped).
    pub fn parse_flags(text: &str) -> Vec<QualityFlag> {
        text.split(',')
            .filter_map(|name| QualityFlag::ALL.into_iter().find(|f| f.as_str() == name))
            .collect()
    }
}

/// Phase 7's helper: classifies a request before routing. Implementations must be cheap (the
/// local one costs tens of microseconds per KiB) and do no I/O.
pub trait PromptClassifier: Send + Sync {
    fn classify(&self, req: &ChatRequest) -> RequestFeatures;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in TaskType::ALL {
            assert_eq!(TaskType::from_name(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert_eq!(TaskType::from_name("poetry"), None);
    }
}
