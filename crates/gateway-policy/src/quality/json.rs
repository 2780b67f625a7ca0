//! The JSON checks: output requested as JSON (`response_format`), and tool-call arguments
//! against each tool's parameter schema. Schemas come from the request, shared and compiled
//! once by [`super::schemas`].

use std::sync::Arc;

use gateway_core::features::QualityFlag;
use gateway_core::quality::{JsonCheck, JsonOutput, SAMPLE_BYTES};
use serde_json::Value;

/// The JSON output `response_format` asks for.
pub(super) fn requested(format: Option<&Value>) -> JsonOutput {
    let Some(format) = format else {
        return JsonOutput::None;
    };
    match format.get("type").and_then(Value::as_str) {
        Some("json_object") => JsonOutput::Object,
        Some("json_schema") => match format.get("json_schema").and_then(|s| s.get("schema")) {
            Some(schema) => JsonOutput::Schema(super::schemas::output(schema)),
            None => JsonOutput::Object,
        },
        _ => JsonOutput::None,
    }
}

/// The flag an answer `text` raises against the JSON output requested, if any.
pub(super) fn check_output(json: &JsonOutput, text: &str) -> Option<QualityFlag> {
    if *json == JsonOutput::None {
        return None;
    }
    let Ok(value) = serde_json::from_str::<Value>(text.trim()) else {
        return Some(QualityFlag::InvalidJson);
    };
    match json {
        JsonOutput::Object if !value.is_object() => Some(QualityFlag::InvalidJson),
        JsonOutput::Schema(schema) if schema.validate(&value) == Some(false) => {
            Some(QualityFlag::SchemaViolation)
        }
        _ => None,
    }
}

/// Whether a tool call names a tool not offered, or has arguments that are not a JSON
/// value valid against the tool's parameter schema. No tools offered: nothing to check.
pub(super) fn tool_calls_invalid(
    tools: &[(Arc<str>, Arc<dyn JsonCheck>)],
    calls: &[(&str, &str)],
) -> bool {
    if tools.is_empty() {
        return false;
    }
    calls.iter().any(|(name, args)| {
        let Some((_, schema)) = tools.iter().find(|(n, _)| &**n == *name) else {
            return true;
        };
        if args.len() > SAMPLE_BYTES {
            return false; // too large to check cheaply
        }
        // No arguments at all is an empty object for a tool without parameters.
        let args = if args.trim().is_empty() { "{}" } else { args };
        match serde_json::from_str::<Value>(args) {
            Ok(value) => schema.validate(&value) == Some(false),
            Err(_) => true,
        }
    })
}
