//! One scale for the three ways vendors ask a model to reason: OpenAI's `reasoning_effort`
//! (`none`, `minimal`, `low`, `medium`, `high`, `xhigh`), Anthropic's `thinking` token budget
//! (`{"type": "enabled", "budget_tokens": N}`, at least 1024) and Gemini's
//! `thinkingConfig.thinkingBudget`. The codecs translate through these two functions, so an
//! effort that goes to a budget and back is the effort it was:
//!
//! | effort | budget | budget | effort |
//! |---|---|---|---|
//! | `minimal`, `low` | 1024 | 1 - 2047 | `low` |
//! | `medium` | 4096 | 2048 - 8191 | `medium` |
//! | `high`, `xhigh` | 16384 | 8192 and more | `high` |
//!
//! `none` asks for no reasoning (no budget).

use serde_json::Value;

use gateway_core::ChatRequest;

/// The thinking budget for an OpenAI `reasoning_effort`; `None` for `none` and unknown values.
pub fn budget_for_effort(effort: &str) -> Option<u32> {
    match effort {
        "minimal" | "low" => Some(1024),
        "medium" => Some(4096),
        "high" | "xhigh" => Some(16384),
        _ => None,
    }
}

/// The OpenAI `reasoning_effort` closest to a thinking budget.
pub fn effort_for_budget(budget: u64) -> &'static str {
    match budget {
        0..=2047 => "low",
        2048..=8191 => "medium",
        _ => "high",
    }
}

/// The caller's `reasoning_effort`, when it set one.
pub fn requested_effort(req: &ChatRequest) -> Option<&str> {
    req.extra.get("reasoning_effort").and_then(Value::as_str)
}

/// The budget of an Anthropic-style `thinking` object of the request: `Some(None)` when
/// thinking is on without a budget (`adaptive`), `None` when off or absent.
pub fn requested_thinking(req: &ChatRequest) -> Option<Option<u64>> {
    let thinking = req.extra.get("thinking")?;
    match thinking.get("type").and_then(Value::as_str) {
        Some("enabled") => Some(thinking.get("budget_tokens").and_then(Value::as_u64)),
        Some("adaptive") => Some(None),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efforts_survive_a_round_trip_through_budgets() {
        for effort in ["low", "medium", "high"] {
            let budget = budget_for_effort(effort).unwrap();
            assert_eq!(effort_for_budget(u64::from(budget)), effort);
        }
        assert_eq!(budget_for_effort("minimal"), Some(1024));
        assert_eq!(budget_for_effort("none"), None);
        assert_eq!(effort_for_budget(2048), "medium");
        assert_eq!(effort_for_budget(32000), "high");
    }

    #[test]
    fn thinking_is_read_from_the_request() {
        let req: ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "m", "messages": [], "thinking": {"type": "enabled", "budget_tokens": 3000},
            "reasoning_effort": "low"}))
        .unwrap();
        assert_eq!(requested_thinking(&req), Some(Some(3000)));
        assert_eq!(requested_effort(&req), Some("low"));
        let off: ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "m", "messages": [], "thinking": {"type": "disabled"}}))
        .unwrap();
        assert_eq!(requested_thinking(&off), None);
    }
}
