//! Quality scoring's seam in the pipeline. A [`QualityScorer`] (the heuristic one lives in
//! `gateway-policy`) reads what a request expects of its answer before the request is routed
//! ([`QualityScorer::expect`]), and scores the answer where the call is accounted
//! ([`QualityScorer::score`]); the [`QualityRecord`] travels in the call's usage record. For
//! streams, the metered stream keeps a bounded [`QualitySample`] of the first choice.
//!
//! [`QualityStats`] is the other direction: the aggregated quality (scores and feedback) per
//! model and task, for routing to consume.

use std::sync::Arc;

use serde_json::Value;

pub use crate::features::{QualityFlag, QualityRecord, TaskType};
use crate::types::{ChatRequest, ChatResponse, ChunkChoice};

/// Bytes of a streamed answer's text (and of its tool-call arguments) kept for scoring.
pub const SAMPLE_BYTES: usize = 64 * 1024;
/// Tool calls of a streamed answer kept for scoring.
const SAMPLE_TOOL_CALLS: usize = 16;

/// A JSON Schema taken from a request, as the scorer compiled it (its own type behind the
/// trait; compiled once per distinct schema, not per call).
pub trait JsonCheck: Send + Sync + std::fmt::Debug {
    /// Whether `instance` is valid; `None` when the schema could not be compiled (a remote
    /// reference, which is never fetched): the check is then skipped.
    fn validate(&self, instance: &Value) -> Option<bool>;
}

/// The JSON output a request asked for (`response_format`).
#[derive(Debug, Clone, Default)]
pub enum JsonOutput {
    #[default]
    None,
    /// `json_object`: any JSON object.
    Object,
    /// `json_schema`: JSON valid against this schema.
    Schema(Arc<dyn JsonCheck>),
}

impl PartialEq for JsonOutput {
    /// Schemas are equal when they are the same compiled schema.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (JsonOutput::None, JsonOutput::None) | (JsonOutput::Object, JsonOutput::Object) => true,
            (JsonOutput::Schema(a), JsonOutput::Schema(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// What the answer to a request is checked against, taken from the request before routing.
/// Taking it must be cheap (it runs on every chat call): what only some answers need — the
/// prompt's language — is kept as a bounded sample and worked out when an answer needs it.
#[derive(Debug, Clone, Default)]
pub struct QualityExpectation {
    pub json: JsonOutput,
    /// Name and parameter schema of each offered function tool (a tool without parameters
    /// accepts any arguments).
    pub tools: Vec<(Arc<str>, Arc<dyn JsonCheck>)>,
    /// ISO 639-1 code of the prompt's language, when it is already known.
    pub prompt_language: Option<&'static str>,
    /// The first bytes of the prompt (cut on a char boundary), whose language is detected
    /// only when an answer's language is compared with it.
    pub prompt_sample: Option<Box<str>>,
    /// The prompt asks for a translation: the answer's language is not compared.
    pub translation: bool,
}

/// One answer as the scorers see it: its first choice.
#[derive(Debug, Clone, Default)]
pub struct AnswerView<'a> {
    pub text: &'a str,
    /// `text` is the whole answer (a streamed answer longer than [`SAMPLE_BYTES`] is not:
    /// checks that need all of it, JSON ones, are skipped).
    pub complete: bool,
    /// The upstream's own refusal field was set.
    pub refusal: bool,
    pub finish_reason: Option<&'a str>,
    /// Name and arguments of each tool call.
    pub tool_calls: Vec<(&'a str, &'a str)>,
}

impl<'a> AnswerView<'a> {
    /// The first choice of a whole response.
    pub fn of_response(response: &'a ChatResponse) -> Self {
        let Some(choice) = response.choices.first() else {
            return AnswerView {
                complete: true,
                ..AnswerView::default()
            };
        };
        let text = match &choice.message.content {
            Some(crate::types::Content::Text(t)) => t.as_str(),
            Some(c) => c.texts().max_by_key(|t| t.len()).unwrap_or(""),
            None => "",
        };
        AnswerView {
            text,
            complete: true,
            refusal: choice
                .message
                .refusal
                .as_deref()
                .is_some_and(|r| !r.is_empty()),
            finish_reason: choice.finish_reason.as_deref(),
            tool_calls: choice
                .message
                .tool_calls
                .iter()
                .flatten()
                .map(|c| (c.function.name.as_str(), c.function.arguments.as_str()))
                .collect(),
        }
    }
}

/// Scores answers. Both methods run on the request path and must cost microseconds and do
/// no I/O; implementations bound their work on huge answers.
pub trait QualityScorer: Send + Sync {
    /// What `req` expects of its answer (called once per chat call, before routing).
    fn expect(&self, req: &ChatRequest) -> QualityExpectation;

    /// The quality of `answer`. `task` is the classifier's, when the call was classified.
    fn score(
        &self,
        expected: &QualityExpectation,
        task: Option<TaskType>,
        answer: &AnswerView<'_>,
    ) -> QualityRecord;
}

/// Bytes of the prompt and of the answer a [`JudgeCase`] keeps.
pub const JUDGE_CASE_BYTES: usize = 8 * 1024;

/// A call chosen for the LLM judge: who made it, what it asked (the last user turn) and what
/// it was answered, each cut to [`JUDGE_CASE_BYTES`].
#[derive(Debug, Clone)]
pub struct JudgeCase {
    pub request_id: Arc<str>,
    pub tenant: crate::principal::TenantId,
    /// The public model the caller asked for.
    pub model: String,
    pub task: Option<TaskType>,
    pub prompt: String,
    pub answer: String,
}

/// The optional LLM judge: a sampled share of answered chat calls is handed over, to be
/// judged off the request path.
pub trait QualityJudge: Send + Sync {
    /// Whether the call of `ctx` is to be judged. Runs on the request path before routing:
    /// cheap, no I/O, no lock. The judge's own calls must answer `false`.
    fn samples(&self, ctx: &crate::context::RequestContext) -> bool;

    /// Hands over a case; returns at once (a full queue drops it).
    fn submit(&self, case: JudgeCase);
}

/// `text` cut to at most `max` bytes on a char boundary.
pub fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A bounded copy of a streamed answer's first choice, kept while it streams.
#[derive(Debug, Default)]
pub(crate) struct QualitySample {
    text: String,
    overflow: bool,
    refusal: bool,
    finish_reason: Option<String>,
    /// (name, arguments) by the call's stream index.
    tool_calls: Vec<(u32, String, String)>,
}

impl QualitySample {
    fn keep(&mut self, into: usize, add: &str) -> usize {
        let room = SAMPLE_BYTES.saturating_sub(self.text.len() + into);
        if add.len() > room {
            self.overflow = true;
            let mut end = room;
            while !add.is_char_boundary(end) {
                end -= 1;
            }
            return end;
        }
        add.len()
    }

    /// What a chunk of choice 0 adds (called before its texts are taken for the guards).
    pub(crate) fn observe(&mut self, choice: &ChunkChoice) {
        if choice.index != 0 {
            return;
        }
        let delta = &choice.delta;
        if let Some(text) = &delta.content {
            let n = self.keep(0, text);
            self.text.push_str(&text[..n]);
        }
        if delta.refusal.as_deref().is_some_and(|r| !r.is_empty()) {
            self.refusal = true;
        }
        for call in delta.tool_calls.iter().flatten() {
            let Some(f) = &call.function else { continue };
            let pos = match self.tool_calls.iter().position(|c| c.0 == call.index) {
                Some(pos) => pos,
                None if self.tool_calls.len() < SAMPLE_TOOL_CALLS => {
                    self.tool_calls
                        .push((call.index, String::new(), String::new()));
                    self.tool_calls.len() - 1
                }
                None => {
                    self.overflow = true;
                    continue;
                }
            };
            let used: usize = self.tool_calls.iter().map(|c| c.2.len()).sum();
            if let Some(name) = &f.name
                && name.len() <= 256
            {
                self.tool_calls[pos].1.push_str(name);
            }
            if let Some(args) = &f.arguments {
                let n = self.keep(used, args);
                self.tool_calls[pos].2.push_str(&args[..n]);
            }
        }
        if let Some(reason) = &choice.finish_reason {
            self.finish_reason = Some(reason.clone());
        }
    }

    pub(crate) fn view(&self) -> AnswerView<'_> {
        AnswerView {
            text: &self.text,
            complete: !self.overflow,
            refusal: self.refusal,
            finish_reason: self.finish_reason.as_deref(),
            tool_calls: self
                .tool_calls
                .iter()
                .map(|(_, name, args)| (name.as_str(), args.as_str()))
                .collect(),
        }
    }
}

/// Aggregated quality of a model group (or a deployment) on a task: the mean of what is
/// known (heuristic scores and caller feedback, each 0..=1) and how many observations it
/// rests on, so that a consumer can weigh it against a prior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityEstimate {
    pub mean: f64,
    pub samples: u64,
}

/// Where routing reads observed quality. Implementations answer from memory (a snapshot
/// refreshed in the background), never by I/O on the request path. `task: None` is the
/// estimate over every task.
pub trait QualityStats: Send + Sync {
    fn quality(&self, model: &str, task: Option<TaskType>) -> Option<QualityEstimate>;
}

/// A [`QualityStats`] snapshot built from aggregates (the usage reports' mean scores, the
/// feedback summaries): each [`QualityTable::add`] is a group's mean and size, pooled with
/// what is already known for that model and task, and for that model over every task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QualityTable {
    /// (model, task) -> (sum of observations, count).
    cells: std::collections::HashMap<(String, Option<TaskType>), (f64, u64)>,
}

impl QualityTable {
    /// Pools `samples` observations of mean `mean` (clamped to 0..=1) into `model`'s `task`.
    pub fn add(&mut self, model: &str, task: Option<TaskType>, mean: f64, samples: u64) {
        if samples == 0 || !mean.is_finite() {
            return;
        }
        let sum = mean.clamp(0.0, 1.0) * samples as f64;
        let keys = [
            Some((model.to_owned(), task)),
            task.map(|_| (model.to_owned(), None)),
        ];
        for key in keys.into_iter().flatten() {
            let cell = self.cells.entry(key).or_default();
            cell.0 += sum;
            cell.1 += samples;
        }
    }
}

impl QualityStats for QualityTable {
    fn quality(&self, model: &str, task: Option<TaskType>) -> Option<QualityEstimate> {
        let (sum, n) = self.cells.get(&(model.to_owned(), task))?;
        Some(QualityEstimate {
            mean: sum / *n as f64,
            samples: *n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Delta, Extra, FunctionCallDelta, ToolCallDelta};

    fn chunk(content: Option<&str>, args: Option<&str>, finish: Option<&str>) -> ChunkChoice {
        // The name comes with the first piece of the arguments, as upstreams send it.
        let name = args.filter(|a| a.starts_with('{')).map(|_| "f".to_owned());
        ChunkChoice {
            index: 0,
            delta: Delta {
                content: content.map(str::to_owned),
                tool_calls: args.map(|a| {
                    vec![ToolCallDelta {
                        index: 0,
                        id: None,
                        kind: None,
                        function: Some(FunctionCallDelta {
                            name: name.clone(),
                            arguments: Some(a.into()),
                        }),
                    }]
                }),
                ..Delta::default()
            },
            finish_reason: finish.map(str::to_owned),
            logprobs: None,
            extra: Extra::new(),
        }
    }

    #[test]
    fn a_table_pools_groups_per_task_and_per_model() {
        let mut t = QualityTable::default();
        t.add("auto", Some(TaskType::Code), 1.0, 3);
        t.add("auto", Some(TaskType::Code), 0.0, 1);
        t.add("auto", Some(TaskType::Math), 0.5, 4);
        t.add("auto", None, 2.0, 0); // nothing observed: ignored
        let code = t.quality("auto", Some(TaskType::Code)).unwrap();
        assert_eq!((code.mean, code.samples), (0.75, 4));
        let all = t.quality("auto", None).unwrap();
        assert_eq!((all.mean, all.samples), (0.625, 8));
        assert_eq!(t.quality("auto", Some(TaskType::Reasoning)), None);
        assert_eq!(t.quality("other", None), None);
    }

    #[test]
    fn a_sample_is_bounded_and_says_so() {
        let mut s = QualitySample::default();
        s.observe(&chunk(Some("hello "), None, None));
        s.observe(&chunk(Some("world"), Some("{\"a\":"), None));
        s.observe(&chunk(None, Some("1}"), Some("stop")));
        let v = s.view();
        assert_eq!(v.text, "hello world");
        assert!(v.complete);
        assert_eq!(v.finish_reason, Some("stop"));
        assert_eq!(v.tool_calls, vec![("f", "{\"a\":1}")]);
        let big = "é".repeat(SAMPLE_BYTES);
        s.observe(&chunk(Some(&big), None, None));
        let v = s.view();
        assert!(!v.complete);
        assert!(v.text.len() <= SAMPLE_BYTES);
    }
}
