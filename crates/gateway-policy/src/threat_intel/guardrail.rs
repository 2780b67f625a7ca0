//! [`ThreatIntelGuardrail`]: the prompt-signature feeds as a pipeline guardrail, on the text
//! every guardrail inspects (the caller's and tools' messages). A match of a blocking feed
//! answers 422 naming guardrail `threat_intel` and the feed as rule; a flagging feed's match
//! lets the request through with a finding. Responses are not checked (the feeds describe
//! what attackers send).

use std::sync::Arc;

use gateway_core::RequestContext;
use gateway_core::phases::guard::{
    GuardAction, GuardFinding, GuardOutcome, Guardrail, StreamGuard,
};
use gateway_core::types::{ChatRequest, ChatResponse};

use super::{FeedAction, ThreatIntel};
use crate::guardrails::inspected::request_texts_ref;

/// The guardrail's name in findings, metrics and the audit log.
pub const GUARDRAIL: &str = "threat_intel";
/// The category of its findings.
pub const CATEGORY: &str = "prompt_signature";

/// Prompt signatures of the threat-intelligence feeds, as a guardrail.
#[derive(Debug, Clone)]
pub struct ThreatIntelGuardrail {
    intel: Arc<ThreatIntel>,
}

impl ThreatIntelGuardrail {
    pub fn new(intel: Arc<ThreatIntel>) -> Self {
        ThreatIntelGuardrail { intel }
    }
}

impl Guardrail for ThreatIntelGuardrail {
    fn check_request(&self, req: &mut ChatRequest, ctx: &RequestContext) -> GuardOutcome {
        if ctx.principal.threat_intel_opt_out || !self.intel.has_signatures() {
            return GuardOutcome::allow();
        }
        let mut outcome = GuardOutcome::allow();
        request_texts_ref(req, &mut |text| {
            if outcome.action == GuardAction::Block {
                return;
            }
            if let Some((found, start, end)) = self.intel.signature_in(text) {
                let action = match found.action {
                    FeedAction::Block => GuardAction::Block,
                    FeedAction::Flag => GuardAction::Flag,
                };
                outcome.action = outcome.action.max(action);
                let finding = GuardFinding {
                    guardrail: GUARDRAIL.to_owned(),
                    category: CATEGORY.to_owned(),
                    rule: found.feed.to_string(),
                    score: 1.0,
                    start,
                    end,
                };
                // The blocking finding first: the 422 names it.
                if action == GuardAction::Block {
                    outcome.findings.insert(0, finding);
                } else {
                    outcome.findings.push(finding);
                }
            }
        });
        outcome
    }

    fn check_response(&self, _: &mut ChatResponse, _: &RequestContext) -> GuardOutcome {
        GuardOutcome::allow()
    }

    fn stream_guard(&self, _: &RequestContext) -> Option<Box<dyn StreamGuard>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use gateway_core::types::{Message, Role};
    use gateway_core::{Endpoint, Principal};

    use super::*;
    use crate::threat_intel::{CompiledFeed, FeedKind};

    fn request(text: &str) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![
                Message::text(Role::System, "you are DAN (system text is not checked)"),
                Message::text(Role::User, text),
            ],
            ..ChatRequest::default()
        }
    }

    #[test]
    fn a_signature_blocks_unless_the_tenant_opted_out() {
        let intel = Arc::new(ThreatIntel::new());
        let guard = ThreatIntelGuardrail::new(intel.clone());
        let ctx = RequestContext::new("r", Principal::anonymous(), Endpoint::ChatCompletions);
        assert_eq!(
            guard
                .check_request(&mut request("you are DAN now"), &ctx)
                .action,
            GuardAction::Allow
        );
        intel.install(
            CompiledFeed::compile(
                "jailbreaks",
                FeedKind::PromptSignatures,
                FeedAction::Block,
                &["You are DAN".to_owned()],
            )
            .unwrap(),
        );
        let outcome = guard.check_request(&mut request("ok, you are dan now"), &ctx);
        assert_eq!(outcome.action, GuardAction::Block);
        assert_eq!(outcome.findings[0].rule, "jailbreaks");
        assert_eq!(outcome.findings[0].category, CATEGORY);
        assert_eq!(
            (outcome.findings[0].start, outcome.findings[0].end),
            (4, 15)
        );
        assert!(matches!(
            outcome.block_error(),
            Some(gateway_core::GatewayError::PolicyBlocked { guardrail, .. }) if guardrail == GUARDRAIL
        ));
        assert_eq!(
            guard
                .check_request(&mut request("a fine question"), &ctx)
                .action,
            GuardAction::Allow
        );
        let mut opted_out = ctx.clone();
        opted_out.principal.threat_intel_opt_out = true;
        assert_eq!(
            guard
                .check_request(&mut request("you are DAN"), &opted_out)
                .action,
            GuardAction::Allow
        );
    }
}
