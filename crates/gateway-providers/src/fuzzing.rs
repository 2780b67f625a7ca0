//! Entry points over every decoder of upstream input, for the fuzz targets in `fuzz/`
//! (`cargo xtask fuzz`): each takes arbitrary bytes and must return, never panic or hang.
//! Not a stable API (hidden from the docs).

use std::collections::VecDeque;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use gateway_core::types::EmbeddingsRequest;
use gateway_core::{ProviderError, StreamEvent};

use crate::codec::VendorCodec;
use crate::sse::EventParser;
use crate::sse::{SseEvent, SseParser};
use crate::vendor_stream::{SseDecoder, decode_text};
use crate::{anthropic, bedrock, gemini, openai};

/// The wire formats an upstream answers in (Azure speaks OpenAI's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    OpenAi,
    Anthropic,
    Gemini,
    Bedrock,
}

impl Vendor {
    pub const ALL: [Vendor; 4] = [
        Vendor::OpenAi,
        Vendor::Anthropic,
        Vendor::Gemini,
        Vendor::Bedrock,
    ];
}

/// A whole answer: decoded as a chat answer, an embeddings answer and a models list, and
/// as an error answer with `status` and `headers`; every error also mapped for the caller.
pub fn decode_answer(vendor: Vendor, status: u16, headers: &HeaderMap, body: &[u8]) {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let bytes = Bytes::copy_from_slice(body);
    let embeddings = EmbeddingsRequest {
        model: "m".to_owned(),
        input: serde_json::Value::String("x".to_owned()),
        encoding_format: None,
        dimensions: None,
        user: None,
        extra: Default::default(),
    };
    let mut errors = Vec::new();
    match vendor {
        Vendor::OpenAi => {
            errors.extend(openai::response::decode_chat(body).err());
            errors.extend(openai::response::decode_embeddings(body).err());
            errors.extend(openai::response::decode_models(body).err());
            errors.push(<openai::OpenAiCodec as VendorCodec>::decode_error(
                status, headers, &bytes,
            ));
        }
        Vendor::Anthropic => {
            errors.extend(anthropic::response::decode(body, None).err());
            errors.push(anthropic::error::error_from_response(
                status, headers, &bytes,
            ));
        }
        Vendor::Gemini => {
            errors.extend(gemini::response::decode(body, "m").err());
            for method in [
                gemini::embeddings::Method::EmbedContent,
                gemini::embeddings::Method::BatchEmbedContents,
            ] {
                errors.extend(gemini::embeddings::decode(body, method, &embeddings).err());
            }
            errors.push(gemini::error::error_from_response(status, headers, &bytes));
        }
        Vendor::Bedrock => {
            errors.extend(bedrock::response::decode(body, "m").err());
            errors.push(bedrock::error::error_from_response(status, headers, &bytes));
        }
    }
    for error in errors {
        let _ = error.into_gateway_error("p").status();
    }
}

/// An event-stream body through the vendor's stream decoder.
pub fn decode_stream(vendor: Vendor, text: &str) -> Result<Vec<StreamEvent>, ProviderError> {
    match vendor {
        Vendor::OpenAi => decode_text(&mut OpenAiEvents, text),
        Vendor::Anthropic => decode_text(&mut anthropic::stream::StreamDecoder::new(true, 0), text),
        Vendor::Gemini => decode_text(&mut gemini::stream::StreamDecoder::new("m", true, 0), text),
        // Bedrock's stream is binary: the text's bytes as frames.
        Vendor::Bedrock => decode_eventstream(text.as_bytes(), &[], 1 << 16).map(|(_, e)| e),
    }
}

/// Splits `input` where `cuts` say and feeds the pieces to Bedrock's event-stream parser
/// (messages of up to `max_message` bytes), then its events to the ConverseStream decoder:
/// the messages (or the error) of the whole, whatever the split, and the canonical events.
pub fn decode_eventstream(
    input: &[u8],
    cuts: &[usize],
    max_message: usize,
) -> Result<(Vec<SseEvent>, Vec<StreamEvent>), ProviderError> {
    let mut parser = bedrock::eventstream::EventStreamParser::new(max_message);
    let mut messages = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        let end = cut.clamp(start, input.len());
        parser.push(&input[start..end], &mut messages)?;
        start = end;
    }
    parser.push(&input[start..], &mut messages)?;
    parser.finish(&mut messages)?;
    let mut decoder = bedrock::stream::StreamDecoder::new("m", true, 0);
    let mut out = VecDeque::new();
    for message in &messages {
        if decoder.on_event(message, &mut out)? {
            return Ok((messages, out.into()));
        }
    }
    decoder.on_eof(&mut out)?;
    Ok((messages, out.into()))
}

/// Splits `input` where `cuts` say and feeds the pieces to a parser with lines of up to
/// `max_line` bytes: the events (or the error) of the whole, whatever the split.
pub fn parse_sse(
    input: &[u8],
    cuts: &[usize],
    max_line: usize,
) -> Result<Vec<SseEvent>, ProviderError> {
    let mut parser = SseParser::with_max_line(max_line);
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        let end = cut.clamp(start, input.len());
        parser.push(&input[start..end], &mut out)?;
        start = end;
    }
    parser.push(&input[start..], &mut out)?;
    parser.finish(&mut out)?;
    Ok(out)
}

/// OpenAI's events, one at a time, as its provider decodes them (`[DONE]` ends).
struct OpenAiEvents;

impl SseDecoder for OpenAiEvents {
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        match openai::stream::decode_event(event)? {
            Some(event) => {
                out.push_back(event);
                Ok(false)
            }
            None => Ok(true),
        }
    }

    fn on_eof(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        Ok(())
    }
}
