//! Anthropic streaming events -> OpenAI-shaped chunks.
//!
//! `message_start` opens the message (a role chunk), `content_block_start` of a `tool_use`
//! block opens a tool call at the next tool-call index (text and thinking blocks do not count:
//! OpenAI numbers tool calls, Anthropic numbers all blocks), `content_block_delta` carries text,
//! thinking (`reasoning_content`, its signature as `reasoning_signature`) or tool-input JSON,
//! `message_delta` the stop reason (with [`stop_details`] for those OpenAI cannot tell apart)
//! and output usage,
//! `message_stop` ends the stream (after a usage chunk when the caller asked for one), `ping` is
//! a keep-alive and `error` fails the stream with the vendor's status. The role chunk carries
//! `message_start`'s usage (the real input tokens) in its `input_usage` extension field, so an
//! Anthropic-dialect caller's `message_start` can report them. The input of the structured-output
//! tool (see [`super::features`]) streams as content.

use std::collections::VecDeque;

use serde_json::Value;

use gateway_core::types::{ChunkChoice, Delta, Extra, FunctionCallDelta, ToolCallDelta};
use gateway_core::{ChatChunk, ProviderError, Role, StreamEvent};

use super::error::stream_error;
use super::response::{WireUsage, finish_reason, stop_details};
use crate::sse::SseEvent;
use crate::vendor_stream::SseDecoder;

/// The state of one Anthropic stream.
#[derive(Debug)]
pub struct StreamDecoder {
    include_usage: bool,
    created: u64,
    id: String,
    model: String,
    usage: WireUsage,
    /// (content block index, tool call index) of the tool_use blocks seen so far.
    tool_blocks: Vec<(u64, u32)>,
    started: bool,
    /// The forced tool whose input is the answer's text, and its block once opened.
    structured_tool: Option<String>,
    structured_block: Option<u64>,
}

impl StreamDecoder {
    /// `include_usage`: end with a usage-only chunk (OpenAI's `stream_options.include_usage`).
    pub fn new(include_usage: bool, created: u64) -> Self {
        StreamDecoder {
            include_usage,
            created,
            id: String::new(),
            model: String::new(),
            usage: WireUsage::default(),
            tool_blocks: Vec::new(),
            started: false,
            structured_tool: None,
            structured_block: None,
        }
    }

    /// Stream the input of tool `name` as content (structured output).
    pub fn with_structured_tool(mut self, name: Option<&str>) -> Self {
        self.structured_tool = name.map(str::to_owned);
        self
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> StreamEvent {
        self.chunk_with(delta, finish_reason, Extra::new())
    }

    /// A chunk whose choice carries `extra` (the stop details of the finish chunk).
    fn chunk_with(&self, delta: Delta, finish_reason: Option<String>, extra: Extra) -> StreamEvent {
        StreamEvent::Chunk(ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
                logprobs: None,
                extra,
            }],
            usage: None,
            system_fingerprint: None,
            extra: Extra::new(),
        })
    }

    fn tool_delta(
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    ) -> Delta {
        Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index,
                kind: id.as_ref().map(|_| "function".to_owned()),
                id,
                function: Some(FunctionCallDelta {
                    name,
                    arguments: Some(arguments),
                }),
            }]),
            ..Delta::default()
        }
    }

    fn on_data(
        &mut self,
        data: &Value,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        let str_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        match data["type"].as_str().unwrap_or_default() {
            "message_start" => {
                let msg = &data["message"];
                self.id = str_of(&msg["id"]);
                self.model = str_of(&msg["model"]);
                if let Ok(u) = serde_json::from_value::<WireUsage>(msg["usage"].clone()) {
                    self.usage.merge(&u);
                }
                self.started = true;
                let delta = Delta {
                    role: Some(Role::Assistant),
                    content: Some(String::new()),
                    ..Delta::default()
                };
                let mut chunk = self.chunk(delta, None);
                if self.usage.input_tokens.is_some()
                    && let StreamEvent::Chunk(c) = &mut chunk
                    && let Ok(usage) = serde_json::to_value(self.usage.to_usage())
                {
                    c.extra.insert("input_usage".into(), usage);
                }
                out.push_back(chunk);
            }
            "content_block_start" => {
                let block = &data["content_block"];
                let index = data["index"].as_u64().unwrap_or_default();
                match block["type"].as_str().unwrap_or_default() {
                    "tool_use"
                        if self.structured_tool.is_some()
                            && block["name"].as_str() == self.structured_tool.as_deref() =>
                    {
                        self.structured_block = Some(index);
                    }
                    "tool_use" => {
                        let tool_index = u32::try_from(self.tool_blocks.len()).unwrap_or(u32::MAX);
                        self.tool_blocks.push((index, tool_index));
                        let delta = Self::tool_delta(
                            tool_index,
                            Some(str_of(&block["id"])),
                            Some(str_of(&block["name"])),
                            String::new(),
                        );
                        out.push_back(self.chunk(delta, None));
                    }
                    "text" => {
                        if let Some(text) = block["text"].as_str().filter(|t| !t.is_empty()) {
                            out.push_back(self.chunk(
                                Delta {
                                    content: Some(text.to_owned()),
                                    ..Delta::default()
                                },
                                None,
                            ));
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = &data["delta"];
                let index = data["index"].as_u64().unwrap_or_default();
                match delta["type"].as_str().unwrap_or_default() {
                    "text_delta" => {
                        let text = str_of(&delta["text"]);
                        out.push_back(self.chunk(
                            Delta {
                                content: Some(text),
                                ..Delta::default()
                            },
                            None,
                        ));
                    }
                    "input_json_delta" if self.structured_block == Some(index) => {
                        let text = str_of(&delta["partial_json"]);
                        out.push_back(self.chunk(
                            Delta {
                                content: Some(text),
                                ..Delta::default()
                            },
                            None,
                        ));
                    }
                    "input_json_delta" => {
                        let Some(&(_, tool)) = self.tool_blocks.iter().find(|(b, _)| *b == index)
                        else {
                            return Err(ProviderError::InvalidResponse(format!(
                                "input_json_delta for block {index}, which is not a tool_use block"
                            )));
                        };
                        let delta =
                            Self::tool_delta(tool, None, None, str_of(&delta["partial_json"]));
                        out.push_back(self.chunk(delta, None));
                    }
                    "thinking_delta" => {
                        let mut d = Delta::default();
                        d.extra
                            .insert("reasoning_content".into(), delta["thinking"].clone());
                        out.push_back(self.chunk(d, None));
                    }
                    "signature_delta" => {
                        // Kept so that an Anthropic-dialect client can send the thinking back.
                        let mut d = Delta::default();
                        d.extra
                            .insert("reasoning_signature".into(), delta["signature"].clone());
                        out.push_back(self.chunk(d, None));
                    }
                    _ => {} // citations_delta
                }
            }
            "message_delta" => {
                if let Ok(u) = serde_json::from_value::<WireUsage>(data["usage"].clone()) {
                    self.usage.merge(&u);
                }
                if let Some(reason) = data["delta"]["stop_reason"].as_str() {
                    let finish = if reason == "tool_use"
                        && self.structured_block.is_some()
                        && self.tool_blocks.is_empty()
                    {
                        "stop"
                    } else {
                        finish_reason(reason)
                    };
                    let mut extra = Extra::new();
                    stop_details(reason, data["delta"]["stop_sequence"].as_str(), &mut extra);
                    out.push_back(self.chunk_with(
                        Delta::default(),
                        Some(finish.to_owned()),
                        extra,
                    ));
                }
            }
            "message_stop" => {
                if self.include_usage {
                    out.push_back(StreamEvent::Chunk(ChatChunk {
                        id: self.id.clone(),
                        object: "chat.completion.chunk".to_owned(),
                        created: self.created,
                        model: self.model.clone(),
                        choices: Vec::new(),
                        usage: Some(self.usage.to_usage()),
                        system_fingerprint: None,
                        extra: Extra::new(),
                    }));
                }
                return Ok(true);
            }
            "ping" => out.push_back(StreamEvent::KeepAlive),
            "error" => return Err(stream_error(&data["error"])),
            _ => {} // content_block_stop and future event types
        }
        Ok(false)
    }
}

impl SseDecoder for StreamDecoder {
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        if event.data.trim().is_empty() {
            return Ok(false);
        }
        let data: Value = serde_json::from_str(&event.data).map_err(|e| {
            ProviderError::InvalidResponse(format!("bad anthropic stream event: {e}"))
        })?;
        self.on_data(&data, out)
    }

    fn on_eof(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        let what = if self.started {
            "before message_stop"
        } else {
            "before message_start"
        };
        Err(ProviderError::InvalidResponse(format!(
            "anthropic stream ended {what}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor_stream::decode_text;

    fn chunks(events: &[StreamEvent]) -> Vec<&ChatChunk> {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Chunk(c) => Some(c),
                StreamEvent::KeepAlive => None,
            })
            .collect()
    }

    #[test]
    fn tool_indices_skip_text_blocks() {
        let text = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"c\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"f\",\"input\":{}}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t2\",\"name\":\"g\",\"input\":{}}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        let events = decode_text(&mut StreamDecoder::new(true, 0), text).unwrap();
        let c = chunks(&events);
        let tool = |i: usize| c[i].choices[0].delta.tool_calls.as_ref().unwrap()[0].index;
        assert_eq!((tool(1), tool(2), tool(3)), (0, 0, 1));
        assert_eq!(c[4].choices[0].finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(
            c[5].usage
                .as_ref()
                .map(|u| (u.prompt_tokens, u.completion_tokens)),
            Some((3, 9))
        );
    }

    #[test]
    fn input_tokens_stop_sequence_and_structured_tool() {
        let text = concat!(
            "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":42,\"output_tokens\":1}}}\n\n",
            "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"City\",\"input\":{}}}\n\n",
            "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"name\\\":1}\"}}\n\n",
            "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n\n",
            "data: {\"type\":\"message_stop\"}\n\n",
        );
        let mut decoder = StreamDecoder::new(false, 0).with_structured_tool(Some("City"));
        let events = decode_text(&mut decoder, text).unwrap();
        let c = chunks(&events);
        assert_eq!(c[0].extra["input_usage"]["prompt_tokens"], 42);
        assert_eq!(
            c[1].choices[0].delta.content.as_deref(),
            Some("{\"name\":1}")
        );
        assert_eq!(c[2].choices[0].finish_reason.as_deref(), Some("stop"));
        let stop = concat!(
            "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{}}}\n\n",
            "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"stop_sequence\",\"stop_sequence\":\"###\"},\"usage\":{\"output_tokens\":5}}\n\n",
            "data: {\"type\":\"message_stop\"}\n\n",
        );
        let events = decode_text(&mut StreamDecoder::new(false, 0), stop).unwrap();
        let c = chunks(&events);
        assert!(c[0].extra.is_empty(), "no input tokens were given");
        let finish = &c[1].choices[0];
        assert_eq!(finish.finish_reason.as_deref(), Some("stop"));
        assert_eq!(finish.extra["stop_reason"], "stop_sequence");
        assert_eq!(finish.extra["stop_sequence"], "###");
        assert!(finish.delta.extra.is_empty());
    }

    #[test]
    fn cut_stream_and_error_event_fail() {
        let start = "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{}}}\n\n";
        assert!(decode_text(&mut StreamDecoder::new(false, 0), start).is_err());
        let err = format!(
            "{start}event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}}}\n\n"
        );
        match decode_text(&mut StreamDecoder::new(false, 0), &err) {
            Err(ProviderError::Status {
                status: 529,
                message,
                ..
            }) => assert_eq!(message, "Overloaded"),
            other => panic!("{other:?}"),
        }
    }
}
