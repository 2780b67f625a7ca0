//! Fields of other vendors' APIs that a canonical request may carry (the Anthropic dialect keeps
//! them, SDK users add them with `extra_body`) and that OpenAI refuses as unknown arguments.
//! They are translated where OpenAI has an equivalent — Anthropic `thinking` becomes
//! `reasoning_effort` ([`crate::reasoning`]) — and left out otherwise: `top_k` (reported to the
//! unsupported-parameter policy), `output_config` (its format already is `response_format`),
//! `cache_control` on the request, content parts and tools (OpenAI caches prompts by itself),
//! thinking blocks and `is_error` on messages, Gemini's settings.
//!
//! A request with none of them (the common OpenAI -> OpenAI call) is serialised as it is:
//! [`needs_translation`] only looks, it copies nothing.

use serde_json::Value;

use gateway_core::ChatRequest;
use gateway_core::types::{Content, Extra};

use crate::reasoning::{effort_for_budget, requested_effort, requested_thinking};

/// Top-level fields OpenAI does not know.
const FOREIGN: [&str; 13] = [
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

fn has_any(extra: &Extra, keys: &[&str]) -> bool {
    !extra.is_empty() && keys.iter().any(|k| extra.contains_key(*k))
}

/// Whether `req` carries anything [`translate`] would change.
pub(crate) fn needs_translation(req: &ChatRequest) -> bool {
    has_any(&req.extra, &FOREIGN)
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
pub(crate) fn translate(req: &mut ChatRequest) {
    if requested_effort(req).is_none()
        && let Some(budget) = requested_thinking(req)
    {
        // Adaptive thinking has no budget: the middle of the scale.
        let effort = effort_for_budget(budget.unwrap_or(4096));
        req.extra
            .insert("reasoning_effort".into(), Value::String(effort.to_owned()));
    }
    for key in FOREIGN {
        req.extra.remove(key);
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
pub(crate) fn unsupported_params(req: &ChatRequest) -> Vec<&'static str> {
    if req.extra.contains_key("top_k") {
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
        assert!(!needs_translation(&r));
        assert!(unsupported_params(&r).is_empty());
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
        assert!(needs_translation(&r));
        assert_eq!(unsupported_params(&r), ["top_k"]);
        translate(&mut r);
        assert!(!needs_translation(&r));
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
        translate(&mut r);
        assert_eq!(r.extra["reasoning_effort"], "high");
        let mut off = req(json!({"model": "m", "messages": [], "thinking": {"type": "disabled"}}));
        translate(&mut off);
        assert!(off.extra.is_empty());
    }
}
