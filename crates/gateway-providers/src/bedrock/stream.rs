//! Bedrock ConverseStream events -> OpenAI-shaped chunks.
//!
//! `messageStart` opens the message (a role chunk); `contentBlockStart` of a `toolUse` block
//! opens a tool call at the next tool-call index (Converse numbers all content blocks, OpenAI
//! only tool calls); `contentBlockDelta` carries text, `reasoningContent` text
//! (`reasoning_content`) or tool-input JSON; `messageStop` the stop reason (the finish chunk);
//! `metadata` the usage (a usage chunk when the caller asked for one), and ends the stream.
//! An exception message fails the stream with the status its type stands for. A body that
//! ends before `messageStop` was cut.

use std::collections::VecDeque;

use serde::Deserialize;
use serde_json::Value;

use gateway_core::types::{ChunkChoice, Delta, Extra, FunctionCallDelta, ToolCallDelta};
use gateway_core::{ChatChunk, ProviderError, Role, StreamEvent};

use super::error::stream_exception;
use super::eventstream::EXCEPTION;
use super::response::{WireUsage, finish_reason, new_id};
use crate::sse::SseEvent;
use crate::vendor_stream::SseDecoder;

/// Most tool-use blocks tracked in one answer.
const MAX_TOOL_BLOCKS: usize = 128;

/// The state of one ConverseStream.
#[derive(Debug)]
pub struct StreamDecoder {
    include_usage: bool,
    created: u64,
    id: String,
    model: String,
    /// (content block index, tool call index) of the toolUse blocks seen so far.
    tool_blocks: Vec<(u64, u32)>,
    stopped: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    usage: Option<WireUsage>,
}

impl StreamDecoder {
    /// `model`: named in every chunk (the stream does not name it).
    pub fn new(model: &str, include_usage: bool, created: u64) -> Self {
        StreamDecoder {
            include_usage,
            created,
            id: new_id(),
            model: model.to_owned(),
            tool_blocks: Vec::new(),
            stopped: false,
        }
    }

    fn chunk(&self, choices: Vec<ChunkChoice>, usage: Option<gateway_core::Usage>) -> StreamEvent {
        StreamEvent::Chunk(ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage,
            system_fingerprint: None,
            extra: Extra::new(),
        })
    }

    fn delta(&self, delta: Delta, finish_reason: Option<String>) -> StreamEvent {
        self.chunk(
            vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
                logprobs: None,
                extra: Extra::new(),
            }],
            None,
        )
    }

    fn tool_index(&self, block: u64) -> Option<u32> {
        self.tool_blocks
            .iter()
            .find(|(b, _)| *b == block)
            .map(|(_, t)| *t)
    }

    fn on_data(
        &mut self,
        kind: &str,
        data: &Value,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        let block = data["contentBlockIndex"].as_u64().unwrap_or(0);
        match kind {
            "messageStart" => out.push_back(self.delta(
                Delta {
                    role: Some(Role::Assistant),
                    content: Some(String::new()),
                    ..Delta::default()
                },
                None,
            )),
            "contentBlockStart" => {
                if let Some(tool) = data["start"].get("toolUse") {
                    if self.tool_blocks.len() >= MAX_TOOL_BLOCKS {
                        return Err(ProviderError::InvalidResponse(
                            "bedrock stream: too many tool calls".to_owned(),
                        ));
                    }
                    let index = u32::try_from(self.tool_blocks.len()).unwrap_or(u32::MAX);
                    self.tool_blocks.push((block, index));
                    out.push_back(self.delta(
                        tool_delta(
                            index,
                            tool["toolUseId"].as_str().map(str::to_owned),
                            tool["name"].as_str().map(str::to_owned),
                            String::new(),
                        ),
                        None,
                    ));
                }
            }
            "contentBlockDelta" => {
                let delta = &data["delta"];
                if let Some(text) = delta["text"].as_str() {
                    out.push_back(self.delta(
                        Delta {
                            content: Some(text.to_owned()),
                            ..Delta::default()
                        },
                        None,
                    ));
                } else if let Some(input) = delta["toolUse"]["input"].as_str() {
                    let index = self.tool_index(block).ok_or_else(|| {
                        ProviderError::InvalidResponse(
                            "bedrock stream: tool input for a block that is no tool call"
                                .to_owned(),
                        )
                    })?;
                    out.push_back(
                        self.delta(tool_delta(index, None, None, input.to_owned()), None),
                    );
                } else if let Some(text) = delta["reasoningContent"]["text"].as_str() {
                    let mut d = Delta::default();
                    d.extra
                        .insert("reasoning_content".into(), Value::String(text.to_owned()));
                    out.push_back(self.delta(d, None));
                }
            }
            "contentBlockStop" => {}
            "messageStop" => {
                self.stopped = true;
                let reason = data["stopReason"].as_str().unwrap_or("end_turn");
                out.push_back(self.delta(Delta::default(), Some(finish_reason(reason).to_owned())));
            }
            "metadata" => {
                let meta: Metadata = serde_json::from_value(data.clone()).map_err(|e| {
                    ProviderError::InvalidResponse(format!("bedrock stream metadata: {e}"))
                })?;
                if self.include_usage
                    && let Some(usage) = meta.usage
                {
                    out.push_back(self.chunk(Vec::new(), Some(usage.to_usage())));
                }
                return Ok(self.stopped);
            }
            _ => {} // events added later are skipped
        }
        Ok(false)
    }
}

fn tool_delta(index: u32, id: Option<String>, name: Option<String>, arguments: String) -> Delta {
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

impl SseDecoder for StreamDecoder {
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        let kind = event.event.as_deref().unwrap_or_default();
        if kind == EXCEPTION {
            let (kind, payload) = event.data.split_once('\n').unwrap_or((&event.data, ""));
            return Err(stream_exception(kind, payload));
        }
        let data: Value = serde_json::from_str(&event.data).map_err(|e| {
            ProviderError::InvalidResponse(format!("bad bedrock stream event: {e}"))
        })?;
        self.on_data(kind, &data, out)
    }

    fn on_eof(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        if self.stopped {
            Ok(())
        } else {
            Err(ProviderError::InvalidResponse(
                "bedrock stream ended before messageStop".to_owned(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[(&str, &str)], usage: bool) -> Result<Vec<StreamEvent>, ProviderError> {
        let mut decoder = StreamDecoder::new("m", usage, 0);
        let mut out = VecDeque::new();
        for (kind, data) in events {
            let event = SseEvent {
                event: Some((*kind).to_owned()),
                data: (*data).to_owned(),
            };
            if decoder.on_event(&event, &mut out)? {
                return Ok(out.into());
            }
        }
        decoder.on_eof(&mut out)?;
        Ok(out.into())
    }

    #[test]
    fn cut_streams_and_exceptions_fail() {
        let cut = [("messageStart", r#"{"role":"assistant"}"#)];
        assert!(matches!(
            run(&cut, false),
            Err(ProviderError::InvalidResponse(_))
        ));
        let throttled = [
            ("messageStart", r#"{"role":"assistant"}"#),
            (EXCEPTION, "throttlingException\n{\"message\":\"slow\"}"),
        ];
        assert!(matches!(
            run(&throttled, false),
            Err(ProviderError::Status { status: 429, .. })
        ));
        let orphan = [(
            "contentBlockDelta",
            r#"{"delta":{"toolUse":{"input":"{"}},"contentBlockIndex":3}"#,
        )];
        assert!(run(&orphan, false).is_err());
    }

    #[test]
    fn usage_chunk_only_when_asked() {
        let events = [
            ("messageStart", r#"{"role":"assistant"}"#),
            (
                "contentBlockDelta",
                r#"{"delta":{"text":"Hi"},"contentBlockIndex":0}"#,
            ),
            ("messageStop", r#"{"stopReason":"end_turn"}"#),
            (
                "metadata",
                r#"{"usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4},"metrics":{"latencyMs":5}}"#,
            ),
        ];
        let with = run(&events, true).unwrap();
        let StreamEvent::Chunk(last) = with.last().unwrap() else {
            panic!()
        };
        assert_eq!(last.usage.as_ref().unwrap().total_tokens, 4);
        let without = run(&events, false).unwrap();
        assert_eq!(without.len(), with.len() - 1);
    }
}
