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
