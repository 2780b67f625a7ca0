//! Incremental scanning of a streamed response.
//!
//! The hold-back is candidate-aware: on every push the scanner releases everything up to
//! the earliest point where a finding could still be forming (the word being written, a
//! number or IBAN that may go on, an unclosed PEM header, the start of a multi-word
//! moderation term; see `stream_hold`), but never holds back more than the window `W`
//! (cut on a UTF-8 boundary). Prose therefore streams word by word. When injection scoring
//! looks at responses, the scanner falls back to holding back the whole window.
//!
//! Each push scans the unreleased text together with up to `W` bytes of already released
//! text before it (the overlap, for context such as `aws_secret_access_key =`). So a match
//! that spans chunks is seen whole before any of it is released, as long as it is shorter
//! than `W`:
//!
//! - a `Block` finding that reaches into unreleased text stops the stream; nothing more is
//!   released, ever;
//! - a `Redact` finding is replaced by its placeholder in the released text; the release
//!   point never cuts through one (it moves back to the finding's start);
//! - findings are reported once, when the text they cover is released, with offsets into the
//!   whole stream.
//!
//! Longer matches (a PEM private-key block) are still stopped, at their header. Each push
//! rescans at most `2W` bytes plus the new delta, so the cost per chunk is bounded.

use std::sync::Arc;

use gateway_core::phases::guard::FindingTally;

use crate::guardrails::engine::{Direction, Guardrails};
use crate::guardrails::finding::{Action, Finding, redact};

/// The result of one push (or of finishing).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScanStep {
    /// Text now safe to emit (redacted where the policy says so). May be empty.
    pub release: String,
    /// Set when the stream must stop: the finding that blocked it (offsets into the stream).
    pub blocked: Option<Finding>,
    /// Findings over the text released by this step (flags and redactions), for audit.
    pub findings: Vec<Finding>,
}

/// Scans one streamed text (one choice) incrementally.
#[derive(Debug)]
pub struct StreamScanner {
    guards: Arc<Guardrails>,
    window: usize,
    /// `[overlap][unreleased]`: the first `overlap` bytes were already released.
    buf: String,
    overlap: usize,
    /// Stream offset of the first unreleased byte (= bytes of original text released).
    released: usize,
    blocked: Option<Finding>,
    /// The flags and redactions reported so far, counted for the call's usage record.
    found: FindingTally,
}

impl StreamScanner {
    /// A scanner with the policy's `[guardrails.stream] window_bytes`.
    pub fn new(guards: Arc<Guardrails>) -> Self {
        let window = guards.config().stream.window_bytes;
        StreamScanner::with_window(guards, window)
    }

    /// A scanner holding back `window` bytes (at least 1).
    pub fn with_window(guards: Arc<Guardrails>, window: usize) -> Self {
        StreamScanner {
            guards,
            window: window.max(1),
            buf: String::new(),
            overlap: 0,
            released: 0,
            blocked: None,
            found: FindingTally::default(),
        }
    }

    pub fn is_blocked(&self) -> bool {
        self.blocked.is_some()
    }

    /// The flags and redactions in the text released so far (a block is not counted here).
    pub fn found(&self) -> FindingTally {
        self.found
    }

    /// Feeds the next delta.
    pub fn push(&mut self, delta: &str) -> ScanStep {
        if self.blocked.is_none() {
            self.buf.push_str(delta);
        }
        self.step(false)
    }

    /// The stream ended: scans and releases everything held back.
    pub fn finish(&mut self) -> ScanStep {
        self.step(true)
    }

    fn step(&mut self, last: bool) -> ScanStep {
        if let Some(f) = &self.blocked {
            return ScanStep {
                blocked: Some(f.clone()),
                ..ScanStep::default()
            };
        }
        let pend = self.overlap;
        if self.buf.len() == pend {
            return ScanStep::default();
        }
        let base = self.released - pend;
        let mut findings = self.guards.findings(&self.buf, Direction::Output);
        findings.retain(|f| f.end > pend);
        findings.sort_by_key(|f| (f.start, f.end));
        if let Some(f) = findings.iter().find(|f| f.action == Action::Block) {
            let f = shifted(f, base);
            self.blocked = Some(f.clone());
            self.buf = String::new();
            self.overlap = 0;
            return ScanStep {
                blocked: Some(f),
                ..ScanStep::default()
            };
        }
        let mut cut = if last {
            self.buf.len()
        } else {
            let window = floor_boundary(&self.buf, self.buf.len().saturating_sub(self.window));
            let hold = self
                .guards
                .stream_hold_from(&self.buf, pend)
                .unwrap_or(window);
            floor_boundary(&self.buf, hold.max(window)).max(pend)
        };
        while let Some(f) = findings
            .iter()
            .find(|f| f.action == Action::Redact && f.start < cut && f.end > cut)
        {
            cut = floor_boundary(&self.buf, f.start).max(pend);
            if cut == pend {
                break;
            }
        }
        let release = redact(&self.buf, &findings, pend..cut);
        let reported: Vec<Finding> = findings
            .iter()
            .filter(|f| f.end <= cut)
            .map(|f| shifted(f, base))
            .collect();
        for f in &reported {
            self.found.add_one(f.guardrail);
        }
        self.released += cut - pend;
        let keep_from = floor_boundary(&self.buf, cut.saturating_sub(self.window));
        self.buf.drain(..keep_from);
        self.overlap = cut - keep_from;
        ScanStep {
            release,
            blocked: None,
            findings: reported,
        }
    }
}

fn shifted(f: &Finding, base: usize) -> Finding {
    Finding {
        start: f.start + base,
        end: f.end + base,
        ..f.clone()
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrails::config::GuardrailConfig;

    fn scanner(window: usize) -> StreamScanner {
        StreamScanner::with_window(
            Arc::new(Guardrails::new(&GuardrailConfig::default()).unwrap()),
            window,
        )
    }

    #[test]
    fn holds_back_the_window_on_char_boundaries() {
        let mut s = scanner(4);
        let step = s.push("héllo wörld");
        assert_eq!(step.release, "héllo w");
        assert_eq!(s.finish().release, "örld");
    }

    #[test]
    fn redaction_spanning_chunks_is_applied_to_released_text() {
        let mut s = scanner(32);
        let mut out = String::new();
        for chunk in [
            "Contact me at jane.d",
            "oe@example.com for details, ",
            "the rest of the text is long enough to flush.",
        ] {
            out.push_str(&s.push(chunk).release);
        }
        let last = s.finish();
        out.push_str(&last.release);
        assert_eq!(
            out,
            "Contact me at [EMAIL] for details, the rest of the text is long enough to flush."
        );
    }

    #[test]
    fn findings_are_reported_once_with_stream_offsets() {
        let mut s = scanner(16);
        let text = "aaaaaaaaaaaaaaaaaaaa mail bob@example.com and then a lot more filler text here";
        let mut findings = Vec::new();
        for chunk in text.as_bytes().chunks(7) {
            findings.extend(s.push(std::str::from_utf8(chunk).unwrap()).findings);
        }
        findings.extend(s.finish().findings);
        assert_eq!(findings.len(), 1);
        assert_eq!(&text[findings[0].start..findings[0].end], "bob@example.com");
    }

    #[test]
    fn blocked_stays_blocked() {
        let mut s = scanner(64);
        let first = s.push("key AKIAIOSFODNN7EXAMPLE");
        assert!(first.blocked.is_some());
        assert!(s.push("more").blocked.is_some());
        assert!(s.finish().release.is_empty());
    }
}
