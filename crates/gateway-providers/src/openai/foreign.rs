//! Fields of other vendors' APIs that a canonical request may carry (the Anthropic dialect keeps
//! them, SDK users add them with `extra_body`) and that OpenAI refuses as unknown arguments.
//! They are translated where OpenAI has an equivalent — Anthropic `thinking` becomes
//! `reasoning_effort` ([`crate::reasoning`]) — and left out otherwise: `top_k` (reported to the
//! unsupported-parameter policy), `output_config` (its format already is `response_format`),
//! `cache_control` on the request, content parts and tools (OpenAI caches prompts by itself),
//! thinking blocks and `is_error` on messages, Gemini's settings.
//!
//! Many OpenAI-compatible servers accept some of them (vLLM, Together, Fireworks and
//! OpenRouter take `top_k`): a provider's `passthrough_params` names those, which then go
//! verbatim and are not reported ([`Passthrough`]).
//!
//! A request with none of them (the common OpenAI -> OpenAI call) is serialised as it is:
//! [`needs_translation`] only looks, it copies nothing.

use serde_json::Value;

use gateway_core::ChatRequest;
use gateway_core::types::{Content, Extra};

use crate::reasoning::{effort_for_budget, requested_effort, requested_thinking};

/// Top-level fields OpenAI does not know.
pub const FOREIGN: [&str; 13] = [
    "thinking",
    "top_k",
    "output_config",
    "cache_control",
    "container",
    "mcp_servers",
    "context_management",
    "safety_settings",
    "safetySettings",
    "thinking_config",
    "thinkingConfig",
    "cached_content",
    "cachedContent",
];

/// Message fields OpenAI does not know.
const FOREIGN_IN_MESSAGE: [&str; 2] = ["thinking_blocks", "is_error"];

/// The [`FOREIGN`] fields one upstream accepts and gets verbatim (a provider's
/// `passthrough_params`); empty for OpenAI itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Passthrough(Box<[&'static str]>);

impl Passthrough {
    /// The fields named in `names`; an error names one that is not a [`FOREIGN`] field (any
    /// other field reaches an OpenAI-compatible upstream as it is already).
    pub fn new<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut kept = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            match FOREIGN.iter().find(|f| **f == name) {
                Some(field) => kept.push(*field),
                None => {
                    return Err(format!(
                        "'{name}' is not a field the openai kind leaves out (those are: {}); \
                         any other field is sent as it is",
                        FOREIGN.join(", ")
                    ));
                }
            }
        }
        Ok(Passthrough(kept.into_boxed_slice()))
    }

    fn keeps(&self, field: &str) -> bool {
        self.0.contains(&field)
    }
}

fn has_any(extra: &Extra, keys: &[&str]) -> bool {
    !extra.is_empty() && keys.iter().any(|k| extra.contains_key(*k))
}

/// Whether `extra` has a [`FOREIGN`] field that `keep` does not pass.
fn has_foreign(extra: &Extra, keep: &Passthrough) -> bool {
    !extra.is_empty()
        && FOREIGN
            .iter()
            .any(|k| extra.contains_key(*k) && !keep.keeps(k))
}

/// Whether `req` carries anything [`translate`] would change.
pub(crate) fn needs_translation(req: &ChatRequest, keep: &Passthrough) -> bool {
    has_foreign(&req.extra, keep)
        || req.messages.iter().any(|m| {
            has_any(&m.extra, &FOREIGN_IN_MESSAGE)
                || matches!(&m.content, Some(Content::Parts(parts))
                    if parts.iter().any(|p| has_any(&p.extra, &["cache_control"])))
        })
        || req
            .tools
            .iter()
            .flatten()
            .any(|t| has_any(&t.extra, &["cache_control"]))
}

/// Rewrite `req` for an OpenAI upstream (see the module doc).
pub(crate) fn translate(req: &mut ChatRequest, keep: &Passthrough) {
    if !keep.keeps("thinking")
        && requested_effort(req).is_none()
        && let Some(budget) = requested_thinking(req)
    {
        // Adaptive thinking has no budget: the middle of the scale.
        let effort = effort_for_budget(budget.unwrap_or(4096));
        req.extra
            .insert("reasoning_effort".into(), Value::String(effort.to_owned()));
    }
    for key in FOREIGN.iter().filter(|k| !keep.keeps(k)) {
        req.extra.remove(*key);
    }
    for m in &mut req.messages {
        for key in FOREIGN_IN_MESSAGE {
            m.extra.remove(key);
        }
        if let Some(Content::Parts(parts)) = &mut m.content {
            for p in parts {
                p.extra.remove("cache_control");
            }
        }
    }
    for t in req.tools.iter_mut().flatten() {
        t.extra.remove("cache_control");
    }
}

/// What OpenAI has no form for and is left out (for the unsupported-parameter policy).
pub(crate) fn unsupported_params(req: &ChatRequest, keep: &Passthrough) -> Vec<&'static str> {
    if req.extra.contains_key("top_k") && !keep.keeps("top_k") {
        vec!["top_k"]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> ChatRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn plain_requests_need_nothing() {
        let r = req(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "reasoning_effort": "low", "service_tier": "flex"}),
        );
        assert!(!needs_translation(&r, &Passthrough::default()));
        assert!(unsupported_params(&r, &Passthrough::default()).is_empty());
    }

    #[test]
    fn foreign_fields_are_mapped_or_left_out() {
        let mut r = req(json!({"model": "m", "top_k": 3,
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "output_config": {"format": {"type": "json_schema", "schema": {}}},
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}]},
                {"role": "assistant", "content": "a", "thinking_blocks": [{"type": "thinking"}]},
                {"role": "tool", "tool_call_id": "t", "content": "r", "is_error": true}],
            "tools": [{"type": "function", "function": {"name": "f"}, "cache_control": {"type": "ephemeral"}}]}));
        let none = Passthrough::default();
        assert!(needs_translation(&r, &none));
        assert_eq!(unsupported_params(&r, &none), ["top_k"]);
        translate(&mut r, &none);
        assert!(!needs_translation(&r, &none));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["reasoning_effort"], "medium");
        for gone in ["top_k", "thinking", "output_config"] {
            assert!(v.get(gone).is_none(), "{gone}");
        }
        assert_eq!(
            v["messages"][0]["content"][0],
            json!({"type": "text", "text": "s"})
        );
        assert!(v["messages"][1].get("thinking_blocks").is_none());
        assert!(v["messages"][2].get("is_error").is_none());
        assert!(v["tools"][0].get("cache_control").is_none());
    }

    #[test]
    fn the_callers_effort_wins_over_thinking() {
        let mut r = req(
            json!({"model": "m", "messages": [], "reasoning_effort": "high",
            "thinking": {"type": "enabled", "budget_tokens": 1024}}),
        );
        translate(&mut r, &Passthrough::default());
        assert_eq!(r.extra["reasoning_effort"], "high");
        let mut off = req(json!({"model": "m", "messages": [], "thinking": {"type": "disabled"}}));
        translate(&mut off, &Passthrough::default());
        assert!(off.extra.is_empty());
    }

    #[test]
    fn passthrough_fields_go_verbatim_and_are_not_reported() {
        let keep = Passthrough::new(&["top_k"]).unwrap();
        let only_top_k = req(json!({"model": "m", "messages": [], "top_k": 20}));
        assert!(
            !needs_translation(&only_top_k, &keep),
            "no copy for a kept field"
        );
        assert!(unsupported_params(&only_top_k, &keep).is_empty());
        let mut mixed = req(json!({"model": "m", "messages": [], "top_k": 20,
            "thinking": {"type": "enabled", "budget_tokens": 1024}}));
        assert!(needs_translation(&mixed, &keep));
        translate(&mut mixed, &keep);
        assert_eq!(mixed.extra["top_k"], 20);
        assert_eq!(mixed.extra["reasoning_effort"], "low");
        assert!(mixed.extra.get("thinking").is_none());
        // A server with an Anthropic-style thinking switch gets it as sent, not mapped.
        let keep_thinking = Passthrough::new(&["thinking"]).unwrap();
        let mut thinking = req(json!({"model": "m", "messages": [],
            "thinking": {"type": "enabled", "budget_tokens": 1024}}));
        translate(&mut thinking, &keep_thinking);
        assert_eq!(thinking.extra["thinking"]["type"], "enabled");
        assert!(thinking.extra.get("reasoning_effort").is_none());
    }

    #[test]
    fn only_foreign_fields_can_be_passed_through() {
        let err = Passthrough::new(&["min_p"]).unwrap_err();
        assert!(err.contains("'min_p'") && err.contains("top_k"), "{err}");
        assert_eq!(
            Passthrough::new::<&str>(&[]).unwrap(),
            Passthrough::default()
        );
    }
}
