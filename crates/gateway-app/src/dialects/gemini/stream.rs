//! Canonical stream -> Gemini `streamGenerateContent` answers: each event a whole
//! `GenerateContentResponse` holding the next piece of the candidate, written as server-sent
//! events (`alt=sse`, what the SDKs ask for) or as the elements of one JSON array (Google's
//! default without `alt`).
//!
//! Text and reasoning are written as they come. Tool calls, which Gemini sends whole, are
//! gathered from their argument deltas and written with the last event, which also carries
//! the `finishReason` and the `usageMetadata` (the gateway asks every upstream for stream
//! usage). A mid-stream error ends the stream with Google's `{"error": {...}}` object, which
//! the SDKs raise. Keep-alives are blank lines: the google-genai SDK would read an SSE
//! comment as the start of a JSON object.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame};
use serde_json::{Map, Value, json};

use gateway_core::types::ChatChunk;
use gateway_core::{GatewayError, GatewayStream, StreamEvent, Usage};

use super::error::encode_error;
use super::response::{finish_reason, function_call_part, usage_metadata};

/// Most candidates tracked (the gateway asks for one; a cache replay could hold more).
const MAX_CANDIDATES: usize = 8;

/// How the events are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `alt=sse`: `data: {...}` events.
    Sse,
    /// Google's default: one JSON array, written element by element.
    JsonArray,
}

impl Framing {
    pub fn content_type(self) -> &'static str {
        match self {
            Framing::Sse => "text/event-stream",
            Framing::JsonArray => "application/json",
        }
    }
}

#[derive(Debug, Default)]
struct PendingCall {
    index: u32,
    id: String,
    name: String,
    arguments: String,
}

#[derive(Debug, Default)]
struct Candidate {
    calls: Vec<PendingCall>,
    finish: Option<&'static str>,
}

/// The state of one stream being re-encoded.
#[derive(Debug)]
pub struct GeminiStreamEncoder {
    model: String,
    id: String,
    candidates: Vec<Candidate>,
    usage: Option<Usage>,
}

impl GeminiStreamEncoder {
    /// `model`: the public name the caller used, named in every event.
    pub fn new(model: &str) -> Self {
        GeminiStreamEncoder {
            model: model.to_owned(),
            id: String::new(),
            candidates: Vec::new(),
            usage: None,
        }
    }

    fn response(&self, candidates: Vec<Value>, usage: Option<&Usage>) -> Value {
        let mut out = Map::new();
        out.insert("candidates".into(), Value::Array(candidates));
        if let Some(usage) = usage {
            out.insert("usageMetadata".into(), usage_metadata(usage));
        }
        out.insert("modelVersion".into(), Value::String(self.model.clone()));
        out.insert("responseId".into(), Value::String(self.id.clone()));
        Value::Object(out)
    }

    /// The events one canonical chunk makes (none while it only carries tool-call pieces).
    pub fn push(&mut self, chunk: &ChatChunk) -> Vec<Value> {
        if self.id.is_empty() && !chunk.id.is_empty() {
            self.id.clone_from(&chunk.id);
        }
        if chunk.usage.is_some() {
            self.usage.clone_from(&chunk.usage);
        }
        let mut candidates = Vec::new();
        for choice in &chunk.choices {
            let index = choice.index as usize;
            if index >= MAX_CANDIDATES {
                continue;
            }
            if self.candidates.len() <= index {
                self.candidates.resize_with(index + 1, Candidate::default);
            }
            let state = &mut self.candidates[index];
            let delta = &choice.delta;
            let mut parts = Vec::new();
            if let Some(Value::String(reasoning)) = delta.extra.get("reasoning_content")
                && !reasoning.is_empty()
            {
                parts.push(json!({ "text": reasoning, "thought": true }));
            }
            for text in [&delta.content, &delta.refusal].into_iter().flatten() {
                if !text.is_empty() {
                    parts.push(json!({ "text": text }));
                }
            }
            for call in delta.tool_calls.iter().flatten() {
                let function = call.function.as_ref();
                let position = match state.calls.iter().position(|c| c.index == call.index) {
                    Some(position) => position,
                    None => {
                        state.calls.push(PendingCall {
                            index: call.index,
                            ..PendingCall::default()
                        });
                        state.calls.len() - 1
                    }
                };
                let pending = &mut state.calls[position];
                if let Some(id) = &call.id {
                    pending.id.clone_from(id);
                }
                if let Some(name) = function.and_then(|f| f.name.as_ref()) {
                    pending.name.push_str(name);
                }
                if let Some(arguments) = function.and_then(|f| f.arguments.as_ref()) {
                    pending.arguments.push_str(arguments);
                }
            }
            if let Some(reason) = &choice.finish_reason {
                state.finish = Some(finish_reason(reason));
            }
            if !parts.is_empty() {
                candidates.push(candidate(choice.index, parts, None));
            }
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        vec![self.response(candidates, None)]
    }

    /// The last event: each candidate's tool calls and finish reason, and the usage.
    pub fn finish(&mut self) -> Vec<Value> {
        if self.candidates.is_empty() {
            self.candidates.push(Candidate::default());
        }
        let candidates = std::mem::take(&mut self.candidates)
            .into_iter()
            .enumerate()
            .map(|(index, c)| {
                let mut parts: Vec<Value> = c
                    .calls
                    .iter()
                    .map(|call| function_call_part(&call.id, &call.name, &call.arguments))
                    .collect();
                if parts.is_empty() {
                    parts.push(json!({ "text": "" }));
                }
                let index = u32::try_from(index).unwrap_or_default();
                candidate(index, parts, Some(c.finish.unwrap_or("STOP")))
            })
            .collect();
        let usage = self.usage.take();
        vec![self.response(candidates, usage.as_ref())]
    }

    /// A stream that fails: what was pending, then the error object.
    pub fn fail(&mut self, err: &GatewayError) -> Vec<Value> {
        let mut events = if self.candidates.iter().any(|c| c.finish.is_some()) {
            self.finish()
        } else {
            Vec::new()
        };
        events.push(encode_error(err));
        events
    }
}

fn candidate(index: u32, parts: Vec<Value>, finish: Option<&str>) -> Value {
    let mut out = json!({ "content": { "parts": parts, "role": "model" }, "index": index });
    if let Some(reason) = finish {
        out["finishReason"] = Value::String(reason.to_owned());
    }
    out
}

/// The pipeline's stream as a Gemini streaming body, each event written as it is produced.
pub struct GeminiStreamBody {
    stream: GatewayStream,
    encoder: GeminiStreamEncoder,
    framing: Framing,
    /// Whether an element of the JSON array was written.
    wrote: bool,
    done: bool,
}

impl GeminiStreamBody {
    pub fn new(stream: GatewayStream, model: &str, framing: Framing) -> Self {
        GeminiStreamBody {
            stream,
            encoder: GeminiStreamEncoder::new(model),
            framing,
            wrote: false,
            done: false,
        }
    }

    fn frames(&mut self, events: &[Value], last: bool) -> Bytes {
        let mut buf = BytesMut::with_capacity(256).writer();
        for event in events {
            let prefix: &[u8] = match (self.framing, self.wrote) {
                (Framing::Sse, _) => b"data: ",
                (Framing::JsonArray, false) => b"[",
                (Framing::JsonArray, true) => b",\r\n",
            };
            buf.get_mut().put_slice(prefix);
            // A `Value` always serialises.
            let _ = serde_json::to_writer(&mut buf, event);
            if self.framing == Framing::Sse {
                buf.get_mut().put_slice(b"\r\n\r\n");
            }
            self.wrote = true;
        }
        if last && self.framing == Framing::JsonArray {
            buf.get_mut()
                .put_slice(if self.wrote { b"]" } else { b"[]" });
        }
        buf.into_inner().freeze()
    }
}

impl HttpBody for GeminiStreamBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let (events, last) = match self.stream.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(StreamEvent::Chunk(chunk)))) => {
                    (self.encoder.push(&chunk), false)
                }
                Poll::Ready(Some(Ok(StreamEvent::KeepAlive))) => {
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"\n")))));
                }
                Poll::Ready(Some(Err(err))) => {
                    self.done = true;
                    tracing::warn!(status = err.status(), error = %err, "stream ended with an error");
                    (self.encoder.fail(&err), true)
                }
                Poll::Ready(None) => {
                    self.done = true;
                    (self.encoder.finish(), true)
                }
            };
            if !events.is_empty() || last {
                let bytes = self.frames(&events, last);
                return Poll::Ready(Some(Ok(Frame::data(bytes))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
