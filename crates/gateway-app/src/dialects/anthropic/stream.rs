//! Canonical stream chunks -> the Anthropic SSE event sequence.
//!
//! `message_start` goes out with the first chunk; text, thinking and each tool call become
//! content blocks (`content_block_start`, deltas, `content_block_stop`), one open at a time
//! and numbered in order, tool arguments as `input_json_delta`; the finish reason and usage are
//! held until [`AnthropicStreamEncoder::finish`], which closes the open block and sends
//! `message_delta` (stop reason, usage) and `message_stop`. Only choice 0 is used (Anthropic
//! messages have one). `message_start` reports the input tokens of the first chunk's
//! `input_usage` (an Anthropic upstream gives them at the start), and the choice-level
//! `stop_reason` / `stop_sequence` of the finish chunk (an Anthropic upstream's, or vLLM's matched
//! stop string) refine the stop reason ([`super::response::stop_of`]).

use bytes::Bytes;
use gateway_core::types::ToolCallDelta;
use gateway_core::{ChatChunk, GatewayError, Usage};
use serde_json::{Value, json};

use super::error::encode_error;
use super::response::{message_id, stop_of, usage_json};

/// One SSE event: its name and its JSON data.
pub type SseEvent = (&'static str, Value);

/// `event: NAME\ndata: JSON\n\n`.
pub fn sse_frame(event: &str, data: &Value) -> Bytes {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    if serde_json::to_writer(&mut out, data).is_err() {
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    Tool(u32),
}

/// Stateful encoder for one streamed response.
#[derive(Debug)]
pub struct AnthropicStreamEncoder {
    model: String,
    started: bool,
    finished: bool,
    /// The open block and its index.
    open: Option<(Block, u32)>,
    next_index: u32,
    /// (OpenAI tool-call index, Anthropic block index) of the tool blocks opened so far.
    tools: Vec<(u32, u32)>,
    finish_reason: Option<String>,
    /// The Anthropic stop reason and matched sequence, once known.
    stop: Option<(&'static str, Option<String>)>,
    usage: Option<Usage>,
}

impl AnthropicStreamEncoder {
    /// Events name `public_model` as the model.
    pub fn new(public_model: &str) -> Self {
        AnthropicStreamEncoder {
            model: public_model.to_owned(),
            started: false,
            finished: false,
            open: None,
            next_index: 0,
            tools: Vec::new(),
            finish_reason: None,
            stop: None,
            usage: None,
        }
    }

    /// A keep-alive (`ping`).
    pub fn ping() -> SseEvent {
        ("ping", json!({ "type": "ping" }))
    }

    /// A mid-stream failure (`error`); the stream ends after it.
    pub fn error(err: &GatewayError) -> SseEvent {
        ("error", encode_error(err))
    }

    fn start(&mut self, id: &str, out: &mut Vec<SseEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        let id = if id.is_empty() {
            "msg_gateway".to_owned()
        } else {
            message_id(id)
        };
        out.push((
            "message_start",
            json!({ "type": "message_start", "message": {
                "id": id, "type": "message", "role": "assistant", "content": [], "model": self.model,
                "stop_reason": null, "stop_sequence": null, "usage": usage_json(self.usage.as_ref()) } }),
        ));
    }

    fn close(&mut self, out: &mut Vec<SseEvent>) {
        if let Some((_, index)) = self.open.take() {
            out.push((
                "content_block_stop",
                json!({ "type": "content_block_stop", "index": index }),
            ));
        }
    }

    /// Make `block` the open block (closing another), starting it with `content_block`.
    fn open(&mut self, block: Block, content_block: Value, out: &mut Vec<SseEvent>) -> u32 {
        if let Some((open, index)) = self.open
            && open == block
        {
            return index;
        }
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((block, index));
        out.push((
            "content_block_start",
            json!({ "type": "content_block_start", "index": index, "content_block": content_block }),
        ));
        index
    }

    fn delta(index: u32, delta: Value, out: &mut Vec<SseEvent>) {
        out.push((
            "content_block_delta",
            json!({ "type": "content_block_delta", "index": index, "delta": delta }),
        ));
    }

    fn tool_delta(&mut self, call: &ToolCallDelta, out: &mut Vec<SseEvent>) {
        let args = call
            .function
            .as_ref()
            .and_then(|f| f.arguments.as_deref())
            .unwrap_or_default();
        let index = match self.tools.iter().find(|(tool, _)| *tool == call.index) {
            // Arguments of an open tool block, or (rare interleaving) of an earlier one.
            Some(&(_, index)) => index,
            None => {
                let id = call
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("toolu_gateway_{}", call.index));
                let name = call
                    .function
                    .as_ref()
                    .and_then(|f| f.name.clone())
                    .unwrap_or_default();
                let index = self.open(
                    Block::Tool(call.index),
                    json!({ "type": "tool_use", "id": id, "name": name, "input": {} }),
                    out,
                );
                self.tools.push((call.index, index));
                index
            }
        };
        if !args.is_empty() {
            Self::delta(
                index,
                json!({ "type": "input_json_delta", "partial_json": args }),
                out,
            );
        }
    }

    /// The events for one canonical chunk.
    pub fn push(&mut self, chunk: &ChatChunk) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        if !self.started
            && self.usage.is_none()
            && let Some(input) = chunk.extra.get("input_usage")
        {
            self.usage = serde_json::from_value(input.clone()).ok();
        }
        self.start(&chunk.id, &mut out);
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            let d = &choice.delta;
            if let Some(thinking) = d
                .extra
                .get("reasoning_content")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                let index = self.open(
                    Block::Thinking,
                    json!({ "type": "thinking", "thinking": "", "signature": "" }),
                    &mut out,
                );
                Self::delta(
                    index,
                    json!({ "type": "thinking_delta", "thinking": thinking }),
                    &mut out,
                );
            }
            if let Some(sig) = d.extra.get("reasoning_signature").and_then(Value::as_str) {
                let index = self.open(
                    Block::Thinking,
                    json!({ "type": "thinking", "thinking": "", "signature": "" }),
                    &mut out,
                );
                Self::delta(
                    index,
                    json!({ "type": "signature_delta", "signature": sig }),
                    &mut out,
                );
            }
            if let Some(text) = d.content.as_deref().filter(|t| !t.is_empty()) {
                let index = self.open(Block::Text, json!({ "type": "text", "text": "" }), &mut out);
                Self::delta(
                    index,
                    json!({ "type": "text_delta", "text": text }),
                    &mut out,
                );
            }
            for call in d.tool_calls.iter().flatten() {
                self.tool_delta(call, &mut out);
            }
            if let Some(reason) = &choice.finish_reason {
                self.stop = Some(stop_of(Some(reason), &choice.extra));
                self.finish_reason = Some(reason.clone());
                self.close(&mut out);
            }
        }
        out
    }

    /// The closing events, once the canonical stream ended.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.start("", &mut out);
        self.close(&mut out);
        self.finished = true;
        let (stop, sequence) = self.stop.take().unwrap_or_else(|| {
            stop_of(
                self.finish_reason.as_deref(),
                &gateway_core::types::Extra::new(),
            )
        });
        out.push((
            "message_delta",
            json!({ "type": "message_delta",
                "delta": { "stop_reason": stop, "stop_sequence": sequence },
                "usage": usage_json(self.usage.as_ref()) }),
        ));
        out.push(("message_stop", json!({ "type": "message_stop" })));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(v: Value) -> ChatChunk {
        let mut base = json!({"id": "chatcmpl-9", "model": "gpt-4o", "created": 1});
        if let (Some(b), Some(extra)) = (base.as_object_mut(), v.as_object()) {
            b.extend(extra.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    fn delta(d: Value) -> ChatChunk {
        chunk(json!({"choices": [{"index": 0, "delta": d, "finish_reason": null}]}))
    }

    fn run(chunks: &[ChatChunk]) -> Vec<SseEvent> {
        let mut enc = AnthropicStreamEncoder::new("claude-public");
        let mut out: Vec<SseEvent> = chunks.iter().flat_map(|c| enc.push(c)).collect();
        out.extend(enc.finish());
        out
    }

    fn names(events: &[SseEvent]) -> Vec<&'static str> {
        events.iter().map(|(n, _)| *n).collect()
    }

    #[test]
    fn text_then_two_tool_calls() {
        let events = run(&[
            delta(json!({"role": "assistant", "content": ""})),
            delta(json!({"content": "Checking"})),
            delta(
                json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "w", "arguments": ""}}]}),
            ),
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]})),
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]})),
            delta(
                json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "t", "arguments": "{}"}}]}),
            ),
            chunk(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})),
            chunk(
                json!({"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 9, "total_tokens": 39}}),
            ),
        ]);
        assert_eq!(
            names(&events),
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
            ]
        );
        assert_eq!(events[0].1["message"]["id"], "msg_chatcmpl-9");
        assert_eq!(events[0].1["message"]["model"], "claude-public");
        assert_eq!(
            events[4].1["content_block"],
            json!({"type": "tool_use", "id": "call_a", "name": "w", "input": {}})
        );
        assert_eq!(
            events[6].1,
            json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": "\"Paris\"}"}})
        );
        assert_eq!(events[8].1["index"], 2);
        assert_eq!(events[11].1["delta"]["stop_reason"], "tool_use");
        assert_eq!(events[11].1["usage"]["output_tokens"], 9);
        assert_eq!(events[11].1["usage"]["input_tokens"], 30);
    }

    #[test]
    fn thinking_with_signature_then_text() {
        let events = run(&[
            delta(json!({"reasoning_content": "hmm"})),
            delta(json!({"reasoning_signature": "sig=="})),
            delta(json!({"content": "Answer"})),
            chunk(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})),
        ]);
        let deltas: Vec<&Value> = events
            .iter()
            .filter(|(n, _)| *n == "content_block_delta")
            .map(|(_, v)| &v["delta"])
            .collect();
        assert_eq!(
            deltas[0],
            &json!({"type": "thinking_delta", "thinking": "hmm"})
        );
        assert_eq!(
            deltas[1],
            &json!({"type": "signature_delta", "signature": "sig=="})
        );
        assert_eq!(deltas[2], &json!({"type": "text_delta", "text": "Answer"}));
        assert_eq!(
            events
                .iter()
                .find(|(n, _)| *n == "message_delta")
                .unwrap()
                .1["delta"]["stop_reason"],
            "max_tokens"
        );
    }

    #[test]
    fn input_tokens_at_the_start_and_the_kept_stop_sequence_at_the_end() {
        let mut first = delta(json!({"role": "assistant", "content": ""}));
        first.extra.insert(
            "input_usage".into(),
            json!({"prompt_tokens": 42, "completion_tokens": 0, "total_tokens": 42}),
        );
        let events = run(&[
            first,
            delta(json!({"content": "a"})),
            chunk(
                json!({"choices": [{"index": 0, "finish_reason": "stop", "delta": {},
                "stop_reason": "stop_sequence", "stop_sequence": "END"}]}),
            ),
        ]);
        assert_eq!(events[0].1["message"]["usage"]["input_tokens"], 42);
        let end = &events
            .iter()
            .find(|(n, _)| *n == "message_delta")
            .unwrap()
            .1;
        assert_eq!(
            end["delta"],
            json!({"stop_reason": "stop_sequence", "stop_sequence": "END"})
        );
    }

    #[test]
    fn a_vllm_stop_string_streamed_on_the_choice_is_the_stop_sequence() {
        // vLLM sends `stop_reason` on every chunk choice: null, then the matched stop string
        // (or a stop token id, a number, which names no sequence).
        let stop = |reason: Value| {
            let events = run(&[
                chunk(
                    json!({"choices": [{"index": 0, "delta": {"content": "a"}, "stop_reason": null}]}),
                ),
                chunk(
                    json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop",
                    "stop_reason": reason}]}),
                ),
            ]);
            let (_, end) = events.iter().find(|(n, _)| *n == "message_delta").unwrap();
            end["delta"].clone()
        };
        assert_eq!(
            stop(json!("###")),
            json!({"stop_reason": "stop_sequence", "stop_sequence": "###"})
        );
        assert_eq!(
            stop(json!(128_009)),
            json!({"stop_reason": "end_turn", "stop_sequence": null})
        );
        assert_eq!(
            stop(Value::Null),
            json!({"stop_reason": "end_turn", "stop_sequence": null})
        );
    }

    #[test]
    fn an_empty_stream_still_is_a_valid_message_and_frames_render() {
        let events = run(&[]);
        assert_eq!(
            names(&events),
            ["message_start", "message_delta", "message_stop"]
        );
        assert_eq!(
            &sse_frame("ping", &AnthropicStreamEncoder::ping().1)[..],
            b"event: ping\ndata: {\"type\":\"ping\"}\n\n"
        );
        let (name, body) = AnthropicStreamEncoder::error(&GatewayError::Unavailable("x".into()));
        assert_eq!(
            (name, body["error"]["type"].as_str()),
            ("error", Some("overloaded_error"))
        );
    }
}
