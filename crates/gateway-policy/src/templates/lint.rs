//! The prompt linter: local, explainable findings on a template or a plain prompt, each with
//! a rule id, a severity, where it is (part, line, column), what is wrong and what to do.
//!
//! Rules (`RULES`):
//! - `variable-in-system-prompt` (error): a template variable, or a string-formatting
//!   placeholder (`{x}`, `${x}`, `%s`), in a system or developer message: the caller's text
//!   is concatenated into the instructions, where an injection in it has the most power.
//! - `instructions-after-input` (warning): instructions after the untrusted input (after the
//!   last variable of a message, or a system message after a user message): text placed
//!   last weighs most, and a variable's content can pose as those instructions.
//! - `missing-output-format` (warning): nothing says what shape the answer takes and no
//!   `response_format` is set.
//! - `unbounded-length` (info): no length guidance in the prompt and no `max_tokens`.
//!
//! Untrusted input is what a call fills in: a template's variables (and loop variables and
//! `set` targets drawn from them), or the placeholders of a plain prompt.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// The linter's rules: id, severity.
pub const RULES: [(&str, Severity); 4] = [
    ("variable-in-system-prompt", Severity::Error),
    ("instructions-after-input", Severity::Warning),
    ("missing-output-format", Severity::Warning),
    ("unbounded-length", Severity::Info),
];

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// Where a finding is: the part of the definition (`messages.N.content` or `prompt`) and
/// the 1-based line and column (in characters) in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Location {
    pub part: String,
    pub line: u32,
    pub column: u32,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LintFinding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    pub suggestion: String,
}

/// What the linter looks at.
#[derive(Debug, Clone, Default)]
pub struct LintInput<'a> {
    /// `(part, role, text)` in order; `part` names it in locations.
    pub parts: Vec<(String, &'a str, &'a str)>,
    /// The template's variables (none for a plain prompt).
    pub variables: Vec<String>,
    pub max_tokens: Option<u32>,
    /// Whether the call sets `response_format` (or a tool schema) for the answer.
    pub response_format: bool,
}

/// The rules' patterns, compiled once.
pub(crate) struct Patterns {
    /// Untrusted spans: Jinja blocks and plain placeholders, leftmost first.
    spans: Regex,
    ident: Regex,
    /// `{% for a, b in expr %}` / `{% set a = expr %}`: names that carry a variable's content.
    binding: Regex,
    format: Regex,
    length: Regex,
    instruction: Regex,
}

pub(crate) static PATTERNS: LazyLock<Result<Patterns, regex::Error>> = LazyLock::new(|| {
    Ok(Patterns {
        spans: Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}|\$\{\w+\}|\{\w+\}|%\(\w+\)s|%s")?,
        ident: Regex::new(r"[A-Za-z_]\w*")?,
        binding: Regex::new(
            r"(?s)^\{%-?\s*(?:for\s+(\w+)(?:\s*,\s*(\w+))?\s+in|set\s+(\w+)\s*=)(.*)%\}$",
        )?,
        format: Regex::new(concat!(
            r"(?i)\b(json|yaml|xml|csv|markdown|bullet|bulleted|numbered|list|table|schema|",
            r"format|plain text|one (word|label|line|sentence)|single (word|label|line)|",
            r"respond with|reply with|answer with|return only|exactly one)\b",
        ))?,
        length: Regex::new(concat!(
            r"(?i)\b(at most|no more than|no longer than|up to|maximum|max\.?|fewer than|",
            r"less than|brief|briefly|concise|concisely|short|one (word|label|line|sentence)|",
            r"single (word|label|line|sentence)|exactly one|\d+\s*(words?|sentences?|",
            r"paragraphs?|bullets?|bullet points|lines?|characters|tokens|items|points))\b",
        ))?,
        instruction: Regex::new(concat!(
            r"(?i)\b(you must|you should|must|always|never|do not|don't|make sure|ensure|",
            r"ignore|respond|reply|answer|return|output|summari[sz]e|translate|classify|write|",
            r"follow)\b",
        ))?,
    })
});

/// Lints `input`; findings in rule order, then by position.
pub fn lint(input: &LintInput<'_>) -> Vec<LintFinding> {
    let mut out = Vec::new();
    // The patterns are constants (a test compiles them); were one invalid, nothing is found.
    let Ok(p) = PATTERNS.as_ref() else {
        return out;
    };
    let spans: Vec<Vec<(usize, usize)>> = input
        .parts
        .iter()
        .map(|(_, _, text)| untrusted_spans(p, text, &input.variables))
        .collect();
    for ((part, role, text), spans) in input.parts.iter().zip(&spans) {
        if is_instructions(role)
            && let Some(&(start, _)) = spans.first()
        {
            out.push(finding(
                "variable-in-system-prompt",
                format!(
                    "Caller input ({}) is placed inside the {role} message.",
                    excerpt(p, &text[start..], 40)
                ),
                at(part, text, start),
                "Keep the system prompt fixed: pass caller text in a user message, between \
                 delimiters, and tell the model to treat it as data.",
            ));
        }
    }
    after_input(p, input, &spans, &mut out);
    let all = || input.parts.iter().map(|(_, _, t)| *t);
    let first = input.parts.first();
    let start_of = |(part, _, text): &(String, &str, &str)| at(part, text, 0);
    if let Some(first) = first {
        if !input.response_format && !all().any(|t| p.format.is_match(t)) {
            out.push(finding(
                "missing-output-format",
                "The prompt does not say what form the answer takes.".to_owned(),
                start_of(first),
                "State the output format (e.g. 'Respond with one JSON object with the keys \
                 ...', 'a Markdown list', 'one label'), or set response_format.",
            ));
        }
        if input.max_tokens.is_none() && !all().any(|t| p.length.is_match(t)) {
            out.push(finding(
                "unbounded-length",
                "Nothing bounds the length of the answer: no length guidance and no max_tokens."
                    .to_owned(),
                start_of(first),
                "Say how long the answer may be (e.g. 'at most 3 sentences') and set max_tokens \
                 on the call.",
            ));
        }
    }
    out
}

fn is_instructions(role: &str) -> bool {
    matches!(role, "system" | "developer")
}

/// `instructions-after-input`: instructions after the last untrusted span of a message, and
/// a system message after a user message.
fn after_input(
    p: &Patterns,
    input: &LintInput<'_>,
    spans: &[Vec<(usize, usize)>],
    out: &mut Vec<LintFinding>,
) {
    let mut seen_user = false;
    for ((part, role, text), spans) in input.parts.iter().zip(spans) {
        if is_instructions(role) && seen_user {
            out.push(finding(
                "instructions-after-input",
                format!("A {role} message comes after a user message."),
                at(part, text, 0),
                "Put every instruction before the user's input: system messages first.",
            ));
        } else if !is_instructions(role)
            && let Some(&(_, end)) = spans.last()
            && let Some(cue) = p.instruction.find(&text[end..])
        {
            let offset = end + cue.start();
            out.push(finding(
                "instructions-after-input",
                format!(
                    "An instruction ('{}') follows caller input in the same message.",
                    cue.as_str()
                ),
                at(part, text, offset),
                "Move the instructions before the input and close the input with a delimiter \
                 (e.g. <<<TEXT ... TEXT>>>), so that nothing after it reads as an instruction.",
            ));
        }
        seen_user |= *role == "user";
    }
}

/// Byte spans of `text` that carry caller input.
fn untrusted_spans(p: &Patterns, text: &str, variables: &[String]) -> Vec<(usize, usize)> {
    let mut tainted: Vec<String> = variables.to_vec();
    let mut spans = Vec::new();
    for m in p.spans.find_iter(text) {
        let s = m.as_str();
        if s.starts_with("{%") {
            if let Some(c) = p.binding.captures(s) {
                let source = c.get(4).map_or("", |e| e.as_str());
                if mentions(p, source, &tainted) {
                    for name in [c.get(1), c.get(2), c.get(3)].into_iter().flatten() {
                        tainted.push(name.as_str().to_owned());
                    }
                }
            }
            continue;
        }
        if !s.starts_with("{{") || mentions(p, s, &tainted) {
            spans.push((m.start(), m.end()));
        }
    }
    spans
}

fn mentions(p: &Patterns, expr: &str, names: &[String]) -> bool {
    p.ident
        .find_iter(expr)
        .any(|id| names.iter().any(|n| n == id.as_str()))
}

fn finding(
    rule: &'static str,
    message: String,
    location: Location,
    suggestion: &str,
) -> LintFinding {
    let severity = RULES
        .iter()
        .find(|(id, _)| *id == rule)
        .map_or(Severity::Warning, |(_, s)| *s);
    LintFinding {
        rule,
        severity,
        message,
        location,
        suggestion: suggestion.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

fn at(part: &str, text: &str, offset: usize) -> Location {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location {
        part: part.to_owned(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

fn excerpt(p: &Patterns, text: &str, max: usize) -> String {
    let end = p.spans.find(text).map_or(text.len(), |m| m.end());
    let span = &text[..end];
    match span.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &span[..i]),
        None => span.to_owned(),
    }
}

#[cfg(test)]
#[path = "lint_tests.rs"]
mod tests;
