//! OpenAI features Anthropic has no field-for-field form of:
//!
//! - **Structured output** (`response_format`): a forced tool whose input schema is the
//!   requested schema (works with every Claude model and Anthropic-compatible server); the
//!   answer's `tool_use` input comes back as the message text, with finish reason `stop`. When
//!   the request also offers tools or thinks (Anthropic refuses a forced tool then), the
//!   native `output_config.format` is sent instead. An `output_config` the caller sent itself
//!   (the Anthropic dialect keeps it) goes verbatim and wins.
//! - **Reasoning**: `reasoning_effort` becomes a `thinking` budget ([`crate::reasoning`]) unless
//!   the caller sent `thinking`; `max_tokens` then grows by the budget (Anthropic counts
//!   thinking in it), and sampling settings thinking refuses are left out.
//! - **Unsupported parameters**: what Anthropic cannot do ([`unsupported_params`]), for the
//!   model's unsupported-parameter policy (dropped and named in a header, or refused).

use serde_json::{Value, json};

use gateway_core::ChatRequest;

use crate::reasoning::{budget_for_effort, requested_effort, requested_thinking};

/// The forced tool's name when the schema has no usable name.
pub const STRUCTURED_TOOL: &str = "json_response";

/// How a structured answer is asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Structured<'a> {
    /// A forced tool named `name` whose input is the answer.
    Tool { name: &'a str, schema: Value },
    /// Anthropic's `output_config.format`.
    Native { schema: Value },
}

fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether the request will think upstream (asked directly, or through `reasoning_effort`).
pub fn thinks(req: &ChatRequest) -> bool {
    match req.extra.get("thinking") {
        Some(_) => requested_thinking(req).is_some(),
        None => requested_effort(req).and_then(budget_for_effort).is_some(),
    }
}

/// How `req`'s `response_format` goes to Anthropic; `None` for text, or when the caller's own
/// `output_config` is sent.
pub fn structured(req: &ChatRequest) -> Option<Structured<'_>> {
    if req.extra.contains_key("output_config") {
        return None;
    }
    let format = req.response_format.as_ref()?;
    let has_tools = req.tools.as_ref().is_some_and(|t| !t.is_empty());
    let (name, schema) = match format.get("type").and_then(Value::as_str)? {
        "json_schema" => {
            let spec = format.get("json_schema");
            let schema = spec
                .and_then(|s| s.get("schema"))
                .cloned()
                .unwrap_or_else(|| json!({ "type": "object" }));
            let name = spec
                .and_then(|s| s.get("name"))
                .and_then(Value::as_str)
                .filter(|n| valid_tool_name(n))
                .unwrap_or(STRUCTURED_TOOL);
            (name, schema)
        }
        // Any JSON object: only a tool can ask for that (the native form needs a closed schema).
        "json_object" if has_tools || thinks(req) => return None,
        "json_object" => (STRUCTURED_TOOL, json!({ "type": "object" })),
        _ => return None,
    };
    if has_tools || thinks(req) {
        Some(Structured::Native { schema })
    } else {
        Some(Structured::Tool { name, schema })
    }
}

/// The forced tool's name, when the answer must be read out of it.
pub fn structured_tool(req: &ChatRequest) -> Option<&str> {
    match structured(req)? {
        Structured::Tool { name, .. } => Some(name),
        Structured::Native { .. } => None,
    }
}

/// Write the structured-output request into `body` (tools, `tool_choice`, `output_config`).
pub fn apply_structured(req: &ChatRequest, body: &mut serde_json::Map<String, Value>) {
    match structured(req) {
        Some(Structured::Tool { name, schema }) => {
            body.insert(
                "tools".into(),
                json!([{ "name": name, "description": "Respond with the answer as this tool's input.", "input_schema": schema }]),
            );
            body.insert(
                "tool_choice".into(),
                json!({ "type": "tool", "name": name, "disable_parallel_tool_use": true }),
            );
        }
        Some(Structured::Native { schema }) => {
            body.insert(
                "output_config".into(),
                json!({ "format": { "type": "json_schema", "schema": schema } }),
            );
        }
        None => {}
    }
}

/// Thinking derived from `reasoning_effort` when the caller sent no `thinking`: writes
/// `thinking`, raises `max_tokens` by the budget, and drops what thinking refuses
/// (`temperature`, `top_p`, `top_k`).
pub fn apply_effort(req: &ChatRequest, body: &mut serde_json::Map<String, Value>) {
    if req.extra.contains_key("thinking") {
        return;
    }
    let Some(budget) = requested_effort(req).and_then(budget_for_effort) else {
        return;
    };
    let max_tokens = body.get("max_tokens").and_then(Value::as_u64).unwrap_or(0);
    body.insert(
        "max_tokens".into(),
        json!(max_tokens.saturating_add(u64::from(budget))),
    );
    body.insert(
        "thinking".into(),
        json!({ "type": "enabled", "budget_tokens": budget }),
    );
    for key in ["temperature", "top_p", "top_k"] {
        body.remove(key);
    }
}

/// Canonical parameters the request sets that Anthropic has no form for.
pub fn unsupported_params(req: &ChatRequest) -> Vec<&'static str> {
    let mut out = Vec::new();
    let typed = [
        ("seed", req.seed.is_some()),
        ("presence_penalty", req.presence_penalty.is_some()),
        ("frequency_penalty", req.frequency_penalty.is_some()),
        ("logit_bias", req.logit_bias.is_some()),
        ("logprobs", req.logprobs == Some(true)),
        ("top_logprobs", req.top_logprobs.is_some()),
    ];
    out.extend(typed.iter().filter(|(_, set)| *set).map(|(name, _)| *name));
    if req.response_format.is_some()
        && structured(req).is_none()
        && !req.extra.contains_key("output_config")
        && req
            .response_format
            .as_ref()
            .and_then(|f| f.get("type"))
            .and_then(Value::as_str)
            != Some("text")
    {
        out.push("response_format");
    }
    for key in ["prediction", "audio", "modalities"] {
        if req.extra.contains_key(key) {
            out.push(key);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> ChatRequest {
        serde_json::from_value(v).unwrap()
    }

    const SCHEMA: &str = r#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}"#;

    #[test]
    fn json_schema_is_a_forced_tool_or_native_with_tools_or_thinking() {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        let plain = req(json!({"model": "m", "messages": [],
            "response_format": {"type": "json_schema", "json_schema": {"name": "City", "schema": schema, "strict": true}}}));
        assert_eq!(
            structured(&plain),
            Some(Structured::Tool {
                name: "City",
                schema: schema.clone()
            })
        );
        let mut body = serde_json::Map::new();
        apply_structured(&plain, &mut body);
        assert_eq!(
            body["tool_choice"],
            json!({"type": "tool", "name": "City", "disable_parallel_tool_use": true})
        );
        assert_eq!(body["tools"][0]["input_schema"], schema);
        let thinking = req(
            json!({"model": "m", "messages": [], "reasoning_effort": "low",
            "response_format": {"type": "json_schema", "json_schema": {"name": "bad name!", "schema": schema}}}),
        );
        let mut body = serde_json::Map::new();
        apply_structured(&thinking, &mut body);
        assert_eq!(
            body["output_config"],
            json!({"format": {"type": "json_schema", "schema": schema}})
        );
        assert!(!body.contains_key("tool_choice"));
        let verbatim = req(
            json!({"model": "m", "messages": [], "output_config": {"format": {"type": "json_schema", "schema": schema}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}}),
        );
        assert_eq!(structured(&verbatim), None);
        assert!(unsupported_params(&verbatim).is_empty());
    }

    #[test]
    fn json_object_needs_a_tool_and_is_unsupported_next_to_tools() {
        let plain =
            req(json!({"model": "m", "messages": [], "response_format": {"type": "json_object"}}));
        assert_eq!(structured_tool(&plain), Some(STRUCTURED_TOOL));
        let with_tools = req(
            json!({"model": "m", "messages": [], "response_format": {"type": "json_object"},
            "tools": [{"type": "function", "function": {"name": "f"}}]}),
        );
        assert_eq!(structured(&with_tools), None);
        assert_eq!(unsupported_params(&with_tools), ["response_format"]);
    }

    #[test]
    fn effort_becomes_a_budget_that_max_tokens_makes_room_for() {
        let r = req(
            json!({"model": "m", "messages": [], "reasoning_effort": "medium", "temperature": 0.3}),
        );
        let mut body = serde_json::Map::new();
        body.insert("max_tokens".into(), json!(500));
        body.insert("temperature".into(), json!(0.3));
        apply_effort(&r, &mut body);
        assert_eq!(
            body["thinking"],
            json!({"type": "enabled", "budget_tokens": 4096})
        );
        assert_eq!(body["max_tokens"], 4596);
        assert!(!body.contains_key("temperature"));
        let own = req(
            json!({"model": "m", "messages": [], "reasoning_effort": "high",
            "thinking": {"type": "enabled", "budget_tokens": 2000}}),
        );
        let mut body = serde_json::Map::new();
        apply_effort(&own, &mut body);
        assert!(body.is_empty(), "the caller's thinking wins");
        let none = req(json!({"model": "m", "messages": [], "reasoning_effort": "none"}));
        assert!(!thinks(&none));
    }

    #[test]
    fn unsupported_parameters_are_named() {
        let r = req(
            json!({"model": "m", "messages": [], "seed": 1, "logit_bias": {"1": 2},
            "frequency_penalty": 0.5, "logprobs": false, "prediction": {"type": "content"}}),
        );
        assert_eq!(
            unsupported_params(&r),
            ["seed", "frequency_penalty", "logit_bias", "prediction"]
        );
    }
}
