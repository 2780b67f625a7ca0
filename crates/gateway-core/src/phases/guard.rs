//! Phases 5 and 8: inspect input and output — guardrails that allow, flag, redact or block,
//! on whole messages and on streams. Implemented in `gateway-policy`.

use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::types::{ChatRequest, ChatResponse};

/// What a guardrail decided, ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuardAction {
    Allow,
    Flag,
    Redact,
    Block,
}

impl GuardAction {
    pub fn as_str(self) -> &'static str {
        match self {
            GuardAction::Allow => "allow",
            GuardAction::Flag => "flag",
            GuardAction::Redact => "redact",
            GuardAction::Block => "block",
        }
    }
}

/// One thing a guardrail found: explained by guardrail, category and rule, located by byte
/// offsets in the inspected text. It never carries the matched text itself.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardFinding {
    pub guardrail: String,
    pub category: String,
    pub rule: String,
    pub score: f32,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GuardOutcome {
    pub action: GuardAction,
    pub findings: Vec<GuardFinding>,
}

impl GuardOutcome {
    pub fn allow() -> Self {
        GuardOutcome {
            action: GuardAction::Allow,
            findings: Vec::new(),
        }
    }

    /// The error a blocking outcome is answered with (422, naming guardrail and rule).
    pub fn block_error(&self) -> Option<GatewayError> {
        if self.action != GuardAction::Block {
            return None;
        }
        let first = self.findings.first();
        Some(GatewayError::PolicyBlocked {
            guardrail: first.map_or_else(|| "policy".to_owned(), |f| f.guardrail.clone()),
            rule: first.map_or_else(|| "unspecified".to_owned(), |f| f.rule.clone()),
        })
    }
}

/// The kinds of guardrail a call's findings came from: a bit set over [`GuardKinds::NAMES`]
/// (`injection`, `pii`, `secrets`, `moderation`, `threat_intel`, and `other` for any
/// guardrail outside that list).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GuardKinds(u8);

impl GuardKinds {
    /// The kinds, in bit order.
    pub const NAMES: [&'static str; 6] = [
        "injection",
        "pii",
        "secrets",
        "moderation",
        "threat_intel",
        "other",
    ];

    /// The kind of the guardrail named `guardrail`.
    pub fn of(guardrail: &str) -> Self {
        let bit = Self::NAMES
            .iter()
            .position(|n| *n == guardrail)
            .unwrap_or(Self::NAMES.len() - 1);
        GuardKinds(1 << bit)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: GuardKinds) -> Self {
        GuardKinds(self.0 | other.0)
    }

    /// The bits, for storing in an atomic.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// From [`GuardKinds::bits`] (unknown bits are dropped).
    pub fn from_bits(bits: u8) -> Self {
        GuardKinds(bits & ((1 << Self::NAMES.len()) - 1))
    }

    /// The names of the kinds present, in [`GuardKinds::NAMES`] order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .enumerate()
            .filter(move |(bit, _)| self.0 & (1 << bit) != 0)
            .map(|(_, name)| name)
    }

    /// The comma-separated names (`pii,secrets`); `None` when empty. How the store keeps it.
    pub fn to_text(self) -> Option<String> {
        (!self.is_empty()).then(|| self.names().collect::<Vec<_>>().join(","))
    }

    /// Parses [`GuardKinds::to_text`] (unknown names count as `other`).
    pub fn from_text(text: &str) -> Self {
        text.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .fold(GuardKinds::default(), |k, n| k.union(GuardKinds::of(n)))
    }
}

/// The guardrail findings of one call, on its input and its output (streamed or not): how
/// many (every flag, redaction and block counts once) and the kinds of guardrail they came
/// from. A `Copy` value: counting allocates nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FindingTally {
    pub count: u32,
    pub kinds: GuardKinds,
}

impl FindingTally {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The findings of one outcome.
    pub fn of(outcome: &GuardOutcome) -> Self {
        let mut tally = FindingTally::default();
        tally.add_outcome(outcome);
        tally
    }

    /// Counts one finding of guardrail `guardrail`.
    pub fn add_one(&mut self, guardrail: &str) {
        self.count = self.count.saturating_add(1);
        self.kinds = self.kinds.union(GuardKinds::of(guardrail));
    }

    /// Counts the findings of an outcome. A block without findings (a guardrail that did not
    /// say why) still counts once, as `other`.
    pub fn add_outcome(&mut self, outcome: &GuardOutcome) {
        for f in &outcome.findings {
            self.add_one(&f.guardrail);
        }
        if outcome.findings.is_empty() && outcome.action != GuardAction::Allow {
            self.add_one("other");
        }
    }

    pub fn merge(&mut self, other: FindingTally) {
        self.count = self.count.saturating_add(other.count);
        self.kinds = self.kinds.union(other.kinds);
    }
}

/// A guardrail over requests and responses.
pub trait Guardrail: Send + Sync {
    /// Inspect the request; may redact message text in place.
    fn check_request(&self, req: &mut ChatRequest, ctx: &RequestContext) -> GuardOutcome;

    /// Inspect a complete response; may redact in place.
    fn check_response(&self, resp: &mut ChatResponse, ctx: &RequestContext) -> GuardOutcome;

    /// A scanner for one streamed response, or `None` when output scanning is off.
    fn stream_guard(&self, ctx: &RequestContext) -> Option<Box<dyn StreamGuard>>;
}

/// Scans one streamed choice incrementally, holding back a bounded window so that a match
/// spanning chunks is caught before any of it is released.
pub trait StreamGuard: Send {
    /// Feed the next content delta; returns the text now safe to emit, or the blocking outcome.
    fn push(&mut self, delta: &str) -> Result<String, GuardOutcome>;
    /// The stream ended: returns what was held back, or the blocking outcome.
    fn finish(&mut self) -> Result<String, GuardOutcome>;
    /// The findings of the text released so far (flags and redactions; a blocking outcome is
    /// returned by `push`/`finish` and counted from there, not here).
    fn findings(&self) -> FindingTally {
        FindingTally::default()
    }
}

/// An input check that needs I/O, such as an external moderation service. It runs after the
/// guardrails, on the text they let through (already redacted); a `Block` outcome answers 422
/// like a guardrail's, and an `Err` (the service failed and the check fails closed) is
/// returned as is.
#[async_trait::async_trait]
pub trait AsyncGuardrail: Send + Sync {
    async fn check_request(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<GuardOutcome, GatewayError>;
}

/// Phase 3 (authorize), custom policy: decides whether a request may proceed, right after the
/// model is authorised and before admission. It may narrow where the request is routed
/// (`ctx.constraints.regions`) or move it to another public model (`req.model`; the gateway
/// authorises the new model again). A denial is an `Err` (typically `Forbidden`); a policy
/// that cannot decide must fail closed with an error too, never let the request through.
pub trait RequestPolicy: Send + Sync {
    fn decide(&self, ctx: &mut RequestContext, req: &mut ChatRequest) -> Result<(), GatewayError>;
}
