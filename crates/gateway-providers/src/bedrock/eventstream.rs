//! The `application/vnd.amazon.eventstream` framing of ConverseStream answers, read with the
//! AWS SDK's own frame decoder (`aws-smithy-eventstream`: prelude and message CRC-32 checks,
//! header parsing). Each message is handed on as an [`SseEvent`]: an `event` message as its
//! `:event-type` (`contentBlockDelta`...) with its JSON payload as data; an `exception` or
//! `error` message as `!exception` with data `TYPE\nPAYLOAD`, for the stream decoder to turn
//! into an error.
//!
//! A message's total length (the first four bytes of its prelude) is checked against the
//! stream's `max_line` limit before it is buffered, so a peer cannot make the gateway hold more
//! than one bounded message.

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::{Buf, BytesMut};

use gateway_core::ProviderError;

use crate::sse::{EventParser, SseEvent};

/// The event name an exception message is handed on under.
pub const EXCEPTION: &str = "!exception";

/// Prelude (total length, headers length, prelude CRC) plus the message CRC.
const MIN_MESSAGE: usize = 16;

/// Reads binary event-stream messages out of a body.
#[derive(Debug)]
pub struct EventStreamParser {
    buf: BytesMut,
    max_message: usize,
}

impl EventStreamParser {
    /// Refuses any message longer than `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        EventStreamParser {
            buf: BytesMut::new(),
            max_message: max_message.max(MIN_MESSAGE),
        }
    }
}

fn invalid(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::InvalidResponse(format!("bedrock event stream: {what}"))
}

fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

/// The event a decoded message stands for.
fn to_event(message: &Message) -> Result<SseEvent, ProviderError> {
    let payload =
        std::str::from_utf8(message.payload()).map_err(|_| invalid("payload is not UTF-8"))?;
    match header(message, ":message-type") {
        Some("event") => {
            let kind = header(message, ":event-type").ok_or_else(|| invalid("no :event-type"))?;
            Ok(SseEvent {
                event: Some(kind.to_owned()),
                data: payload.to_owned(),
            })
        }
        Some("exception") => {
            let kind = header(message, ":exception-type").unwrap_or("internalServerException");
            Ok(SseEvent {
                event: Some(EXCEPTION.to_owned()),
                data: format!("{kind}\n{payload}"),
            })
        }
        Some("error") => {
            let kind = header(message, ":error-code").unwrap_or("internalServerException");
            let text = header(message, ":error-message").unwrap_or_default();
            let payload = serde_json::json!({ "message": text }).to_string();
            Ok(SseEvent {
                event: Some(EXCEPTION.to_owned()),
                data: format!("{kind}\n{payload}"),
            })
        }
        _ => Err(invalid("message without a known :message-type")),
    }
}

impl EventParser for EventStreamParser {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        self.buf.extend_from_slice(bytes);
        while self.buf.len() >= 4 {
            let total = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
            let total = usize::try_from(total).unwrap_or(usize::MAX);
            if total < MIN_MESSAGE {
                return Err(invalid(format!("message length {total} is too short")));
            }
            if total > self.max_message {
                return Err(invalid(format!(
                    "message of {total} bytes exceeds the limit of {}",
                    self.max_message
                )));
            }
            if self.buf.len() < total {
                break;
            }
            let mut frame = self.buf.split_to(total).freeze();
            // A whole message each time: the decoder's state never spans two calls.
            let message = match MessageFrameDecoder::new().decode_frame(&mut frame) {
                Ok(DecodedFrame::Complete(message)) => message,
                Ok(DecodedFrame::Incomplete) => return Err(invalid("truncated message")),
                Err(e) => return Err(invalid(e)),
            };
            if frame.has_remaining() {
                return Err(invalid("message length disagrees with its content"));
            }
            out.push(to_event(&message)?);
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(invalid("the body ended inside a message"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::Header;

    fn event(kind: &str, payload: &str) -> Vec<u8> {
        let message = Message::new(payload.as_bytes().to_vec())
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String("event".into()),
            ))
            .add_header(Header::new(
                ":event-type",
                HeaderValue::String(kind.to_owned().into()),
            ))
            .add_header(Header::new(
                ":content-type",
                HeaderValue::String("application/json".into()),
            ));
        let mut out = Vec::new();
        write_message_to(&message, &mut out).unwrap();
        out
    }

    #[test]
    fn messages_split_anywhere_decode_whole() {
        let mut wire = event("messageStart", r#"{"role":"assistant"}"#);
        wire.extend(event(
            "contentBlockDelta",
            r#"{"delta":{"text":"Hi"},"contentBlockIndex":0}"#,
        ));
        for cut in 0..wire.len() {
            let mut parser = EventStreamParser::new(1 << 20);
            let mut out = Vec::new();
            parser.push(&wire[..cut], &mut out).unwrap();
            parser.push(&wire[cut..], &mut out).unwrap();
            parser.finish(&mut out).unwrap();
            assert_eq!(out.len(), 2, "cut at {cut}");
            assert_eq!(out[1].event.as_deref(), Some("contentBlockDelta"));
            assert_eq!(
                out[1].data,
                r#"{"delta":{"text":"Hi"},"contentBlockIndex":0}"#
            );
        }
    }

    #[test]
    fn corrupt_oversized_and_cut_messages_fail() {
        let wire = event("messageStart", r#"{"role":"assistant"}"#);
        let mut flipped = wire.clone();
        let last = flipped.len() - 5;
        flipped[last] ^= 1;
        let mut out = Vec::new();
        assert!(
            EventStreamParser::new(1 << 20)
                .push(&flipped, &mut out)
                .is_err(),
            "CRC"
        );
        assert!(
            EventStreamParser::new(32).push(&wire, &mut out).is_err(),
            "limit"
        );
        let mut parser = EventStreamParser::new(1 << 20);
        parser.push(&wire[..wire.len() - 1], &mut out).unwrap();
        assert!(parser.finish(&mut out).is_err(), "cut");
        assert!(out.is_empty());
    }

    #[test]
    fn exceptions_are_handed_on_with_their_type() {
        let message = Message::new(&br#"{"message":"Too many tokens"}"#[..])
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String("exception".into()),
            ))
            .add_header(Header::new(
                ":exception-type",
                HeaderValue::String("throttlingException".into()),
            ));
        let mut wire = Vec::new();
        write_message_to(&message, &mut wire).unwrap();
        let mut out = Vec::new();
        EventStreamParser::new(1 << 20)
            .push(&wire, &mut out)
            .unwrap();
        assert_eq!(out[0].event.as_deref(), Some(EXCEPTION));
        assert!(out[0].data.starts_with("throttlingException\n{"));
    }

    /// The fuzz target's property on mutated real streams (a deterministic stand-in for
    /// `cargo xtask fuzz`): any damage, any split, the same messages or the same error.
    #[test]
    fn mutated_streams_decode_the_same_whatever_the_split() {
        let mut wire = event("messageStart", r#"{"role":"assistant"}"#);
        wire.extend(event(
            "contentBlockDelta",
            r#"{"delta":{"text":"Hi"},"contentBlockIndex":0}"#,
        ));
        wire.extend(event("messageStop", r#"{"stopReason":"end_turn"}"#));
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut failures = 0;
        for round in 0..2000 {
            let mut input = wire.clone();
            for _ in 0..=(round % 4) {
                let at = usize::try_from(next() % input.len() as u64).unwrap();
                match next() % 3 {
                    0 => input[at] = u8::try_from(next() % 256).unwrap(),
                    1 => input.truncate(at),
                    _ => input.insert(at, u8::try_from(next() % 256).unwrap()),
                }
                if input.is_empty() {
                    break;
                }
            }
            let step = 1 + usize::try_from(next() % 17).unwrap();
            let cuts: Vec<usize> = (1..input.len()).step_by(step).collect();
            let whole = crate::fuzzing::decode_eventstream(&input, &[], 256);
            let split = crate::fuzzing::decode_eventstream(&input, &cuts, 256);
            match (&whole, &split) {
                (Ok((a, _)), Ok((b, _))) => assert_eq!(a, b),
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string());
                    failures += 1;
                }
                _ => panic!("round {round}: whole {whole:?}, split {split:?}"),
            }
        }
        assert!(failures > 1000, "damage is detected: {failures}");
    }
}
