//! Gemini `GenerateContentResponse` -> canonical [`ChatResponse`].
//!
//! Candidates become choices; `text` parts join into `content` (`thought` parts go to
//! `reasoning_content`); `functionCall` parts become tool calls with a generated id (which
//! carries the part's `thoughtSignature`, so that it goes back with the call next turn); finish
//! reasons map to OpenAI's (safety-type reasons to `content_filter`); a prompt blocked before
//! any candidate is a clear 400 error; usage counts thinking tokens as completion tokens, as
//! OpenAI counts reasoning tokens.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use gateway_core::types::{
    Choice, CompletionTokensDetails, Content, Extra, FunctionCall, ModelInfo, PromptTokensDetails,
    Role, ToolCall,
};
use gateway_core::{ChatResponse, Message, ProviderError, Usage};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireResponse {
    #[serde(default)]
    pub candidates: Vec<WireCandidate>,
    #[serde(default)]
    pub prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    pub usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub response_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireCandidate {
    #[serde(default)]
    pub content: Option<WireContent>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub index: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireContent {
    #[serde(default)]
    pub parts: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    #[serde(default)]
    pub block_reason: Option<String>,
    #[serde(default)]
    pub block_reason_message: Option<String>,
}

/// Gemini's `usageMetadata`, read from upstream answers and written by the gateway's Gemini
/// ingress.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    #[serde(default)]
    pub prompt_token_count: u64,
    #[serde(default)]
    pub candidates_token_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_token_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thoughts_token_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_content_token_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_prompt_token_count: Option<u64>,
}

impl UsageMetadata {
    /// The inverse of [`UsageMetadata::to_usage`]: reasoning tokens are `thoughtsTokenCount`,
    /// the rest of the completion `candidatesTokenCount`.
    pub fn from_usage(usage: &Usage) -> Self {
        let thoughts = usage.reasoning_tokens();
        let cached = usage.cached_tokens();
        UsageMetadata {
            prompt_token_count: usage.prompt_tokens,
            candidates_token_count: usage.completion_tokens.saturating_sub(thoughts),
            total_token_count: Some(usage.total_tokens),
            thoughts_token_count: (thoughts > 0).then_some(thoughts),
            cached_content_token_count: (cached > 0).then_some(cached),
            tool_use_prompt_token_count: None,
        }
    }

    pub fn to_usage(&self) -> Usage {
        let prompt = self.prompt_token_count + self.tool_use_prompt_token_count.unwrap_or(0);
        let thoughts = self.thoughts_token_count.unwrap_or(0);
        let mut usage = Usage::new(prompt, self.candidates_token_count + thoughts);
        if let Some(total) = self.total_token_count {
            usage.total_tokens = total.max(usage.total_tokens);
        }
        if let Some(cached) = self.cached_content_token_count {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: Some(cached),
                cache_write_tokens: None,
                extra: Extra::new(),
            });
        }
        if let Some(thoughts) = self.thoughts_token_count {
            usage.completion_tokens_details = Some(CompletionTokensDetails {
                reasoning_tokens: Some(thoughts),
                extra: Extra::new(),
            });
        }
        usage
    }
}

/// Gemini `finishReason` -> OpenAI `finish_reason` (`tool_calls` when the turn called tools).
pub fn finish_reason(reason: &str, called_tools: bool) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            "content_filter"
        }
        _ if called_tools => "tool_calls",
        _ => "stop",
    }
}

/// The error for a prompt Gemini refused to answer at all.
pub(crate) fn blocked(feedback: &PromptFeedback) -> Option<ProviderError> {
    let reason = feedback.block_reason.as_deref()?;
    let detail = feedback
        .block_reason_message
        .as_deref()
        .map(crate::sanitize::sanitize_upstream_message);
    let message = match detail {
        Some(d) => {
            format!("The prompt was blocked by the provider's content filter ({reason}): {d}")
        }
        None => format!("The prompt was blocked by the provider's content filter ({reason})."),
    };
    Some(ProviderError::Status {
        status: 400,
        message,
        retry_after: None,
    })
}

const SIGNATURE_MARK: &str = "__ts_";

/// A fresh tool-call id; a thought signature rides along (URL-safe base64) after a marker.
pub(crate) fn new_call_id(signature: Option<&str>) -> String {
    call_id(None, signature)
}

/// The canonical id of a Gemini function call: its own `id`, or a fresh one, with its thought
/// signature (URL-safe base64) after a marker, so that the signature goes back to Gemini with
/// the call next turn whichever client and upstream carried it ([`split_call_id`]).
pub fn call_id(id: Option<&str>, signature: Option<&str>) -> String {
    let mut id = match id {
        Some(id) => id.to_owned(),
        None => {
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            format!("call_{nanos:08x}{n:04x}")
        }
    };
    if let Some(sig) = signature {
        id.push_str(SIGNATURE_MARK);
        id.extend(sig.trim_end_matches('=').chars().map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        }));
    }
    id
}

/// (id without signature, the thought signature in standard base64).
pub fn split_call_id(id: &str) -> (&str, Option<String>) {
    let Some((base, sig)) = id.split_once(SIGNATURE_MARK) else {
        return (id, None);
    };
    let mut sig: String = sig
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !sig.len().is_multiple_of(4) {
        sig.push('=');
    }
    (base, Some(sig))
}

/// What a candidate's parts say.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    pub text: String,
    pub reasoning: String,
    pub calls: Vec<ToolCall>,
}

pub(crate) fn read_parts(parts: &[Value]) -> Parts {
    let mut out = Parts::default();
    for part in parts {
        if let Some(call) = part.get("functionCall") {
            let id = call_id(call["id"].as_str(), part["thoughtSignature"].as_str());
            let args = if call["args"].is_null() {
                Value::Object(Default::default())
            } else {
                call["args"].clone()
            };
            out.calls.push(ToolCall {
                id,
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: call["name"].as_str().unwrap_or_default().to_owned(),
                    arguments: serde_json::to_string(&args).unwrap_or_else(|_| "{}".to_owned()),
                },
            });
        } else if let Some(text) = part["text"].as_str() {
            if part["thought"].as_bool() == Some(true) {
                out.reasoning.push_str(text);
            } else {
                out.text.push_str(text);
            }
        }
    }
    out
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Decode a non-streamed answer for `model` (used when the response names no model version).
pub fn decode(bytes: &[u8], model: &str) -> Result<ChatResponse, ProviderError> {
    let resp: WireResponse = gateway_core::types::from_json_bytes(bytes)
        .map_err(|e| ProviderError::InvalidResponse(format!("gemini response: {e}")))?;
    to_chat_response(resp, model, unix_now())
}

/// Decode a `GET models` page, each model (without its `models/` prefix) attributed to
/// `provider`.
pub fn decode_models(provider: &str, bytes: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
    #[derive(Deserialize)]
    struct List {
        #[serde(default)]
        models: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        name: String,
    }
    let list: List = serde_json::from_slice(bytes)
        .map_err(|e| ProviderError::InvalidResponse(format!("gemini model list: {e}")))?;
    Ok(list
        .models
        .into_iter()
        .map(|m| ModelInfo::new(m.name.strip_prefix("models/").unwrap_or(&m.name), provider))
        .collect())
}

pub(crate) fn to_chat_response(
    resp: WireResponse,
    model: &str,
    created: u64,
) -> Result<ChatResponse, ProviderError> {
    if resp.candidates.is_empty() {
        return Err(resp
            .prompt_feedback
            .as_ref()
            .and_then(blocked)
            .unwrap_or_else(|| {
                ProviderError::InvalidResponse("gemini response has no candidates".to_owned())
            }));
    }
    let choices = resp
        .candidates
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let parts = read_parts(c.content.as_ref().map_or(&[][..], |c| &c.parts));
            let called = !parts.calls.is_empty();
            let mut message = Message::text(Role::Assistant, parts.text);
            if called {
                if matches!(&message.content, Some(Content::Text(t)) if t.is_empty()) {
                    message.content = None;
                }
                message.tool_calls = Some(parts.calls);
            }
            if !parts.reasoning.is_empty() {
                message
                    .extra
                    .insert("reasoning_content".into(), Value::String(parts.reasoning));
            }
            Choice {
                index: c.index.unwrap_or(u32::try_from(i).unwrap_or(0)),
                message,
                finish_reason: c
                    .finish_reason
                    .as_deref()
                    .map(|r| finish_reason(r, called).to_owned()),
                logprobs: None,
                extra: Extra::new(),
            }
        })
        .collect();
    Ok(ChatResponse {
        id: resp
            .response_id
            .unwrap_or_else(|| format!("gemini-{}", new_call_id(None))),
        object: "chat.completion".to_owned(),
        created,
        model: resp.model_version.unwrap_or_else(|| model.to_owned()),
        choices,
        usage: resp.usage_metadata.as_ref().map(UsageMetadata::to_usage),
        system_fingerprint: None,
        extra: Extra::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_tokens_count_as_completion() {
        let u: UsageMetadata = serde_json::from_str(
            r#"{"promptTokenCount":10,"candidatesTokenCount":5,"thoughtsTokenCount":20,"totalTokenCount":35,"cachedContentTokenCount":4}"#,
        )
        .unwrap();
        let u = u.to_usage();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (10, 25, 35)
        );
        assert_eq!((u.reasoning_tokens(), u.cached_tokens()), (20, 4));
    }

    #[test]
    fn signature_round_trips_through_the_id() {
        let sig = "AY89a18iOcFus5wr5bW5xN6zZ4aUiCyhgmg6HE2YjtYDV/dwZ5oZlZHeTmiUKv34qq0=";
        let id = new_call_id(Some(sig));
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "{id}"
        );
        assert_eq!(split_call_id(&id).1.as_deref(), Some(sig));
        assert_ne!(new_call_id(None), new_call_id(None));
        // A call Gemini gave an id keeps it, and its signature still rides along.
        let parts = read_parts(&[serde_json::json!({
            "functionCall": {"id": "fc-7", "name": "f", "args": {}}, "thoughtSignature": sig})]);
        let id = &parts.calls[0].id;
        assert_eq!(split_call_id(id), ("fc-7", Some(sig.to_owned())));
    }

    #[test]
    fn prompt_block_is_a_clear_400() {
        let body = br#"{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}"#;
        match decode(body, "m") {
            Err(ProviderError::Status {
                status: 400,
                message,
                ..
            }) => assert!(message.contains("SAFETY"), "{message}"),
            other => panic!("{other:?}"),
        }
    }
}
