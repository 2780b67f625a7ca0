//! Gemini `streamGenerateContent?alt=sse` -> OpenAI-shaped chunks.
//!
//! Every event is a whole `GenerateContentResponse` holding the next piece of each candidate.
//! Text becomes content deltas, each `functionCall` part (Gemini sends them whole) one
//! tool-call delta at the candidate's next tool-call index, `finishReason` the finish chunk.
//! Gemini has no end marker: the body ends; the usage chunk (when asked for) then carries the
//! last `usageMetadata`. A body that ends before any finish reason was cut; an `error` object
//! or a blocked prompt fails the stream.

use std::collections::VecDeque;

use serde_json::Value;

use gateway_core::types::{ChunkChoice, Delta, Extra, FunctionCallDelta, ToolCallDelta};
use gateway_core::{ChatChunk, ProviderError, Role, StreamEvent};

use super::error::body_error;
use super::response::{
    UsageMetadata, WireResponse, blocked, finish_reason, new_call_id, read_parts,
};
use crate::sse::SseEvent;
use crate::vendor_stream::SseDecoder;

/// Most candidates tracked (Gemini allows up to 8).
const MAX_CANDIDATES: usize = 16;

#[derive(Debug, Default, Clone, Copy)]
struct Candidate {
    started: bool,
    tools: u32,
    finished: bool,
}

/// The state of one Gemini stream.
#[derive(Debug)]
pub struct StreamDecoder {
    include_usage: bool,
    created: u64,
    id: Option<String>,
    model: String,
    usage: Option<UsageMetadata>,
    candidates: Vec<Candidate>,
}

impl StreamDecoder {
    /// `model`: named in chunks when the stream names no model version.
    pub fn new(model: &str, include_usage: bool, created: u64) -> Self {
        StreamDecoder {
            include_usage,
            created,
            id: None,
            model: model.to_owned(),
            usage: None,
            candidates: Vec::new(),
        }
    }

    fn chunk(&self, choices: Vec<ChunkChoice>, usage: Option<gateway_core::Usage>) -> StreamEvent {
        StreamEvent::Chunk(ChatChunk {
            id: self.id.clone().unwrap_or_default(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage,
            system_fingerprint: None,
            extra: Extra::new(),
        })
    }

    fn on_response(
        &mut self,
        resp: WireResponse,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        if self.id.is_none() {
            if resp.candidates.is_empty()
                && let Some(err) = resp.prompt_feedback.as_ref().and_then(blocked)
            {
                return Err(err);
            }
            self.id = Some(
                resp.response_id
                    .clone()
                    .unwrap_or_else(|| format!("gemini-{}", new_call_id(None))),
            );
            if let Some(version) = &resp.model_version {
                self.model.clone_from(version);
            }
        }
        if resp.usage_metadata.is_some() {
            self.usage = resp.usage_metadata;
        }
        for (position, candidate) in resp.candidates.into_iter().enumerate() {
            let index = candidate.index.map_or(position, |i| i as usize);
            if index >= MAX_CANDIDATES {
                continue;
            }
            if self.candidates.len() <= index {
                self.candidates.resize(index + 1, Candidate::default());
            }
            let parts = read_parts(candidate.content.as_ref().map_or(&[][..], |c| &c.parts));
            let state = &mut self.candidates[index];
            let mut delta = Delta::default();
            if !state.started {
                state.started = true;
                delta.role = Some(Role::Assistant);
            }
            if !parts.text.is_empty() || (delta.role.is_some() && parts.calls.is_empty()) {
                delta.content = Some(parts.text);
            }
            if !parts.reasoning.is_empty() {
                delta
                    .extra
                    .insert("reasoning_content".into(), Value::String(parts.reasoning));
            }
            if !parts.calls.is_empty() {
                let calls = parts
                    .calls
                    .into_iter()
                    .map(|call| {
                        let tool_index = state.tools;
                        state.tools += 1;
                        ToolCallDelta {
                            index: tool_index,
                            id: Some(call.id),
                            kind: Some("function".to_owned()),
                            function: Some(FunctionCallDelta {
                                name: Some(call.function.name),
                                arguments: Some(call.function.arguments),
                            }),
                        }
                    })
                    .collect();
                delta.tool_calls = Some(calls);
            }
            let finish = candidate
                .finish_reason
                .as_deref()
                .map(|r| finish_reason(r, state.tools > 0).to_owned());
            state.finished |= finish.is_some();
            let has_delta = delta.role.is_some()
                || delta.content.is_some()
                || delta.tool_calls.is_some()
                || !delta.extra.is_empty();
            let index = u32::try_from(index).unwrap_or_default();
            match (has_delta, finish) {
                (true, Some(reason)) => {
                    out.push_back(self.chunk(
                        vec![ChunkChoice {
                            index,
                            delta,
                            finish_reason: None,
                            logprobs: None,
                            extra: Extra::new(),
                        }],
                        None,
                    ));
                    let end = ChunkChoice {
                        index,
                        delta: Delta::default(),
                        finish_reason: Some(reason),
                        logprobs: None,
                        extra: Extra::new(),
                    };
                    out.push_back(self.chunk(vec![end], None));
                }
                (has_delta, finish_reason) if has_delta || finish_reason.is_some() => {
                    out.push_back(self.chunk(
                        vec![ChunkChoice {
                            index,
                            delta,
                            finish_reason,
                            logprobs: None,
                            extra: Extra::new(),
                        }],
                        None,
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl SseDecoder for StreamDecoder {
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        let value: Value = serde_json::from_str(data)
            .map_err(|e| ProviderError::InvalidResponse(format!("bad gemini stream event: {e}")))?;
        if let Some(err) = body_error(&value) {
            return Err(err);
        }
        let resp: WireResponse = serde_json::from_value(value)
            .map_err(|e| ProviderError::InvalidResponse(format!("bad gemini stream event: {e}")))?;
        self.on_response(resp, out)?;
        Ok(false)
    }

    fn on_eof(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        if self.candidates.is_empty()
            || !self
                .candidates
                .iter()
                .filter(|c| c.started)
                .all(|c| c.finished)
        {
            return Err(ProviderError::InvalidResponse(
                "gemini stream ended before a finishReason".to_owned(),
            ));
        }
        if self.include_usage
            && let Some(usage) = &self.usage
        {
            let usage = usage.to_usage();
            out.push_back(self.chunk(Vec::new(), Some(usage)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor_stream::decode_text;

    #[test]
    fn cut_stream_blocked_prompt_and_error_object() {
        let partial = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}],\"role\":\"model\"}}]}\n\n";
        assert!(decode_text(&mut StreamDecoder::new("m", true, 0), partial).is_err());
        let blocked = "data: {\"promptFeedback\":{\"blockReason\":\"PROHIBITED_CONTENT\"}}\n\n";
        assert!(matches!(
            decode_text(&mut StreamDecoder::new("m", true, 0), blocked),
            Err(ProviderError::Status { status: 400, .. })
        ));
        let error = "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}\n\n";
        assert!(matches!(
            decode_text(&mut StreamDecoder::new("m", true, 0), error),
            Err(ProviderError::Status { status: 503, .. })
        ));
    }

    #[test]
    fn safety_finish_is_content_filter() {
        let text = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Sure\"}]},\"finishReason\":\"SAFETY\"}]}\n\n";
        let events = decode_text(&mut StreamDecoder::new("m", false, 0), text).unwrap();
        let StreamEvent::Chunk(last) = events.last().unwrap() else {
            panic!()
        };
        assert_eq!(
            last.choices[0].finish_reason.as_deref(),
            Some("content_filter")
        );
    }
}
