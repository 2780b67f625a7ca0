//! Anthropic message object -> canonical [`ChatResponse`]: text blocks joined into `content`,
//! `tool_use` blocks as tool calls, thinking blocks kept in `reasoning_content` and
//! `thinking_blocks`, stop reasons mapped to OpenAI finish reasons and usage normalised
//! (OpenAI's `prompt_tokens` includes cached tokens; Anthropic's `input_tokens` does not).

use serde::Deserialize;
use serde_json::Value;

use gateway_core::types::{
    Choice, Content, Extra, FunctionCall, ModelInfo, PromptTokensDetails, Role, ToolCall,
};
use gateway_core::{ChatResponse, Message, ProviderError, Usage};

#[derive(Debug, Deserialize)]
pub(crate) struct WireMessage {
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub content: Vec<Value>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
    #[serde(default)]
    pub usage: WireUsage,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Later (cumulative) counts replace earlier ones field by field.
    pub fn merge(&mut self, later: &WireUsage) {
        let pick = |a: &mut Option<u64>, b: Option<u64>| {
            if b.is_some() {
                *a = b;
            }
        };
        pick(&mut self.input_tokens, later.input_tokens);
        pick(&mut self.output_tokens, later.output_tokens);
        pick(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        pick(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
    }

    pub fn to_usage(&self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let write = self.cache_creation_input_tokens.unwrap_or(0);
        let mut usage = Usage::new(
            self.input_tokens.unwrap_or(0) + read + write,
            self.output_tokens.unwrap_or(0),
        );
        if self.cache_read_input_tokens.is_some() || self.cache_creation_input_tokens.is_some() {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: Some(read),
                cache_write_tokens: Some(write),
                extra: Extra::new(),
            });
        }
        usage
    }
}

/// Anthropic `stop_reason` -> OpenAI `finish_reason`.
pub fn finish_reason(stop_reason: &str) -> &str {
    match stop_reason {
        "end_turn" | "stop_sequence" | "pause_turn" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        other => other,
    }
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The Anthropic stop reasons an OpenAI finish reason cannot tell apart, kept in the
/// canonical choice (or finish delta) as `stop_reason`, with the matched `stop_sequence`.
pub fn stop_details(stop_reason: &str, stop_sequence: Option<&str>, extra: &mut Extra) {
    if matches!(
        stop_reason,
        "stop_sequence" | "pause_turn" | "refusal" | "model_context_window_exceeded"
    ) {
        extra.insert("stop_reason".into(), Value::String(stop_reason.to_owned()));
        if let Some(seq) = stop_sequence {
            extra.insert("stop_sequence".into(), Value::String(seq.to_owned()));
        }
    }
}

/// Decode a non-streamed Messages API answer. `structured_tool` names the forced tool whose
/// input is the answer's text (structured output, see [`super::features`]).
pub fn decode(bytes: &[u8], structured_tool: Option<&str>) -> Result<ChatResponse, ProviderError> {
    let msg: WireMessage = gateway_core::types::from_json_bytes(bytes)
        .map_err(|e| ProviderError::InvalidResponse(format!("anthropic message: {e}")))?;
    Ok(to_chat_response(msg, unix_now(), structured_tool))
}

/// Decode a `GET /v1/models` page, each model attributed to `provider`.
pub fn decode_models(provider: &str, bytes: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
    #[derive(Deserialize)]
    struct List {
        data: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        id: String,
    }
    let list: List = serde_json::from_slice(bytes)
        .map_err(|e| ProviderError::InvalidResponse(format!("anthropic model list: {e}")))?;
    Ok(list
        .data
        .into_iter()
        .map(|m| ModelInfo::new(m.id, provider))
        .collect())
}

pub(crate) fn to_chat_response(
    msg: WireMessage,
    created: u64,
    structured_tool: Option<&str>,
) -> ChatResponse {
    let mut structured = false;
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut tool_calls = Vec::new();
    for block in msg.content {
        match block["type"].as_str().unwrap_or_default() {
            "text" => text.push_str(block["text"].as_str().unwrap_or_default()),
            "tool_use"
                if structured_tool.is_some() && block["name"].as_str() == structured_tool =>
            {
                structured = true;
                text.push_str(&serde_json::to_string(&block["input"]).unwrap_or_default());
            }
            "tool_use" => tool_calls.push(ToolCall {
                id: block["id"].as_str().unwrap_or_default().to_owned(),
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: block["name"].as_str().unwrap_or_default().to_owned(),
                    arguments: serde_json::to_string(&block["input"])
                        .unwrap_or_else(|_| "{}".to_owned()),
                },
            }),
            "thinking" => {
                reasoning.push_str(block["thinking"].as_str().unwrap_or_default());
                thinking_blocks.push(block);
            }
            "redacted_thinking" => thinking_blocks.push(block),
            _ => {} // server tool blocks (web search results...) have no OpenAI form
        }
    }
    let mut message = Message::text(Role::Assistant, text);
    if matches!(&message.content, Some(Content::Text(t)) if t.is_empty()) && !tool_calls.is_empty()
    {
        message.content = None;
    }
    if !tool_calls.is_empty() {
        message.tool_calls = Some(tool_calls);
    }
    if !reasoning.is_empty() {
        message
            .extra
            .insert("reasoning_content".into(), Value::String(reasoning));
    }
    if !thinking_blocks.is_empty() {
        message
            .extra
            .insert("thinking_blocks".into(), Value::Array(thinking_blocks));
    }
    let usage = msg.usage.to_usage();
    let mut choice_extra = Extra::new();
    if let Some(reason) = msg.stop_reason.as_deref() {
        stop_details(reason, msg.stop_sequence.as_deref(), &mut choice_extra);
    }
    let finish = match msg.stop_reason.as_deref() {
        Some("tool_use") if structured && message.tool_calls.is_none() => Some("stop".to_owned()),
        other => other.map(|r| finish_reason(r).to_owned()),
    };
    ChatResponse {
        id: msg.id,
        object: "chat.completion".to_owned(),
        created,
        model: msg.model,
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: finish,
            logprobs: None,
            extra: choice_extra,
        }],
        usage: Some(usage),
        system_fingerprint: None,
        extra: Extra::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_tokens_fold_into_prompt_tokens() {
        let u = WireUsage {
            input_tokens: Some(10),
            output_tokens: Some(5),
            cache_creation_input_tokens: Some(100),
            cache_read_input_tokens: Some(1000),
        }
        .to_usage();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (1110, 5, 1115)
        );
        assert_eq!(u.cached_tokens(), 1000);
        assert_eq!(
            u.prompt_tokens_details.unwrap().cache_write_tokens,
            Some(100)
        );
    }

    #[test]
    fn stop_reasons() {
        let cases = [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
        ];
        for (a, o) in cases {
            assert_eq!(finish_reason(a), o);
        }
    }

    #[test]
    fn stop_sequence_and_pause_turn_are_kept_beside_the_finish_reason() {
        let body = br#"{"id":"msg_1","model":"c","content":[{"type":"text","text":"a"}],
            "stop_reason":"stop_sequence","stop_sequence":"END","usage":{"input_tokens":3,"output_tokens":1}}"#;
        let r = decode(body, None).unwrap();
        let c = &r.choices[0];
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            (
                c.extra["stop_reason"].as_str(),
                c.extra["stop_sequence"].as_str()
            ),
            (Some("stop_sequence"), Some("END"))
        );
        let body = br#"{"id":"m","content":[],"stop_reason":"end_turn","usage":{}}"#;
        assert!(decode(body, None).unwrap().choices[0].extra.is_empty());
        let body = br#"{"id":"m","content":[],"stop_reason":"pause_turn","usage":{}}"#;
        assert_eq!(
            decode(body, None).unwrap().choices[0].extra["stop_reason"],
            "pause_turn"
        );
    }

    #[test]
    fn the_structured_output_tool_becomes_the_text() {
        let body = br#"{"id":"m","content":[{"type":"tool_use","id":"t","name":"City","input":{"name":"Paris"}}],
            "stop_reason":"tool_use","usage":{}}"#;
        let r = decode(body, Some("City")).unwrap();
        let c = &r.choices[0];
        assert_eq!(
            c.message.content,
            Some(Content::Text("{\"name\":\"Paris\"}".into()))
        );
        assert_eq!(c.message.tool_calls, None);
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
        let as_tool = decode(body, None).unwrap();
        assert_eq!(
            as_tool.choices[0].finish_reason.as_deref(),
            Some("tool_calls")
        );
    }

    #[test]
    fn not_a_message_is_invalid() {
        assert!(matches!(
            decode(b"{\"type\":\"message\"}", None),
            Err(ProviderError::InvalidResponse(_))
        ));
    }
}
