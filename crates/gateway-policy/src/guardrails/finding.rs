//! What a guardrail found ([`Finding`]), what to do about it ([`Action`]) and the combined
//! decision over a text ([`Verdict`]), plus overlap resolution and typed redaction.

use serde::{Deserialize, Serialize};

/// What to do with a text, ordered by severity (`Allow < Flag < Redact < Block`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Let it through and record nothing (used to switch one entity off).
    #[default]
    Allow,
    /// Let it through unchanged, but report the finding.
    Flag,
    /// Replace the matched span with a typed placeholder such as `[EMAIL]`.
    Redact,
    /// Refuse the request (or stop the response).
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Flag => "flag",
            Action::Redact => "redact",
            Action::Block => "block",
        }
    }
}

/// One thing a guardrail found. It explains itself by guardrail, category and rule, and is
/// located by byte offsets `start..end` into the inspected text; it never holds the matched
/// text, so it can be logged and audited safely.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// `"injection"`, `"pii"`, `"secrets"` or `"moderation"`.
    pub guardrail: &'static str,
    /// For example `"instruction_override"`, `"email"`, `"credit_card"`, `"aws_access_key"`.
    pub category: String,
    /// The rule that fired, for example `"override_scoped"`, `"luhn"` or `"term:3"`.
    pub rule: String,
    /// Confidence in `0..=1` (for injection: the message's combined score).
    pub score: f32,
    /// Byte offset of the first matched byte in the inspected text.
    pub start: usize,
    /// Byte offset one past the last matched byte.
    pub end: usize,
    /// The action the policy attached to this finding.
    pub action: Action,
}

impl Finding {
    /// The typed placeholder that replaces this finding's span when redacted: the category
    /// upper-cased in brackets, e.g. `[EMAIL]`, `[CREDIT_CARD]`, `[AWS_ACCESS_KEY]`.
    pub fn placeholder(&self) -> String {
        format!("[{}]", self.category.to_ascii_uppercase())
    }

    fn rank(&self) -> (Action, usize, u32) {
        (
            self.action,
            self.end - self.start,
            (self.score * 1000.0) as u32,
        )
    }
}

/// The combined decision over one text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    /// The most severe action of all findings (`Allow` when there are none).
    pub action: Action,
    /// Every finding with a non-`Allow` action, sorted by `start`.
    pub findings: Vec<Finding>,
    /// The text with every `Redact` finding replaced by its placeholder; set only when
    /// `action == Redact`.
    pub redacted: Option<String>,
}

impl Verdict {
    /// Nothing found.
    pub fn allow() -> Self {
        Verdict::default()
    }

    pub fn is_blocked(&self) -> bool {
        self.action == Action::Block
    }

    /// The first finding whose action is `Block`, if any.
    pub fn blocking_finding(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.action == Action::Block)
    }

    /// Builds a verdict from findings: sorts them, takes the most severe action and builds
    /// the redacted text when that action is `Redact`.
    pub(crate) fn from_findings(text: &str, mut findings: Vec<Finding>) -> Self {
        findings.sort_by_key(|f| (f.start, f.end));
        let action = findings
            .iter()
            .map(|f| f.action)
            .max()
            .unwrap_or(Action::Allow);
        let redacted = (action == Action::Redact).then(|| redact(text, &findings, 0..text.len()));
        Verdict {
            action,
            findings,
            redacted,
        }
    }
}

/// Resolves overlapping findings: of two overlapping spans the more severe action wins,
/// then the longer span, then the higher score. The result is sorted by `start` and free of
/// overlaps.
pub(crate) fn resolve_overlaps(findings: &mut Vec<Finding>) {
    if findings.len() < 2 {
        return;
    }
    findings.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings.drain(..) {
        match kept.last_mut() {
            Some(last) if f.start < last.end => {
                if f.rank() > last.rank() {
                    *last = f;
                }
            }
            _ => kept.push(f),
        }
    }
    *findings = kept;
}

/// Copies `text[range]`, replacing each `Redact` finding (clipped to `range`) by its
/// placeholder. Findings must be sorted by `start`; a finding overlapping an earlier replaced
/// span is skipped.
pub(crate) fn redact(text: &str, findings: &[Finding], range: std::ops::Range<usize>) -> String {
    let mut out = String::with_capacity(range.len());
    let mut cursor = range.start;
    for f in findings.iter().filter(|f| f.action == Action::Redact) {
        let (start, end) = (f.start.max(range.start), f.end.min(range.end));
        if start >= end || start < cursor {
            continue;
        }
        let (Some(before), true) = (text.get(cursor..start), text.is_char_boundary(end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&f.placeholder());
        cursor = end;
    }
    out.push_str(text.get(cursor..range.end).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(category: &str, action: Action, start: usize, end: usize) -> Finding {
        Finding {
            guardrail: "pii",
            category: category.into(),
            rule: "r".into(),
            score: 0.9,
            start,
            end,
            action,
        }
    }

    #[test]
    fn actions_are_ordered_by_severity() {
        assert!(Action::Allow < Action::Flag);
        assert!(Action::Flag < Action::Redact);
        assert!(Action::Redact < Action::Block);
    }

    #[test]
    fn overlaps_resolve_to_most_severe_then_longest() {
        let mut v = vec![
            f("phone", Action::Redact, 5, 15),
            f("credit_card", Action::Redact, 3, 22),
            f("aws_access_key", Action::Block, 20, 40),
            f("email", Action::Redact, 50, 60),
        ];
        resolve_overlaps(&mut v);
        let cats: Vec<&str> = v.iter().map(|f| f.category.as_str()).collect();
        assert_eq!(cats, ["aws_access_key", "email"]);
    }

    #[test]
    fn redaction_uses_typed_placeholders() {
        let text = "mail bob@example.com or call 555";
        let findings = vec![
            f("email", Action::Redact, 5, 20),
            f("phone", Action::Flag, 29, 32),
        ];
        let v = Verdict::from_findings(text, findings);
        assert_eq!(v.action, Action::Redact);
        assert_eq!(v.redacted.as_deref(), Some("mail [EMAIL] or call 555"));
    }

    #[test]
    fn block_has_no_redacted_text() {
        let v = Verdict::from_findings("x", vec![f("jwt", Action::Block, 0, 1)]);
        assert!(v.is_blocked());
        assert!(v.redacted.is_none());
        assert_eq!(
            v.blocking_finding().map(|f| f.category.as_str()),
            Some("jwt")
        );
    }
}
