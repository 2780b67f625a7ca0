//! Incremental server-sent-events parsing (the WHATWG event-stream format), robust to events
//! split anywhere across network reads, and the stream of events read from an upstream body.

use std::time::Duration;

use crate::client::UpstreamBody;
use bytes::{Buf, Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use http_body_util::BodyExt;

use gateway_core::{ProviderError, TimeoutPhase};

/// One event: its `event:` name (if any) and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Feeds bytes in, takes complete events out.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: BytesMut,
    current: SseEvent,
    has_data: bool,
}

/// Longest line we accept before declaring the upstream broken (guards memory).
const MAX_LINE: usize = 8 * 1024 * 1024;

impl SseParser {
    pub fn new() -> Self {
        SseParser::default()
    }

    /// Append bytes and push every event they complete onto `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        self.buf.extend_from_slice(bytes);
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line = self.buf.split_to(pos + 1);
            line.truncate(pos);
            if line.last() == Some(&b'\r') {
                line.truncate(pos - 1);
            }
            self.line(&line, out)?;
        }
        if self.buf.len() > MAX_LINE {
            return Err(ProviderError::InvalidResponse(
                "event-stream line too long".to_owned(),
            ));
        }
        Ok(())
    }

    /// The body ended: a final event without its blank line still counts.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        if !self.buf.is_empty() {
            let line = self.buf.split();
            self.line(&line, out)?;
        }
        self.dispatch(out);
        Ok(())
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // comment / keep-alive
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| ProviderError::InvalidResponse("event-stream is not UTF-8".to_owned()))?;
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.current.event = Some(value.to_owned()),
            _ => {} // id, retry and unknown fields are not used by LLM APIs
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data || self.current.event.is_some() {
            out.push(std::mem::take(&mut self.current));
        }
        self.has_data = false;
    }
}

/// How long, and for how many events, [`drain_in_background`] reads after an end marker.
const DRAIN_WAIT: Duration = Duration::from_secs(1);
const DRAIN_EVENTS: usize = 4;

/// Reads what is left of an event stream after the vendor's end marker (`[DONE]`,
/// `message_stop`): normally only the body's last chunk, already received. A body read to its
/// end returns its connection to the pool; one dropped early is closed. Done on a task of its
/// own so that the caller's stream ends at once; bounded, so a peer that keeps sending is
/// cut off.
pub fn drain_in_background<S>(mut events: S)
where
    S: Stream<Item = Result<SseEvent, ProviderError>> + Send + Unpin + 'static,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let _ = tokio::time::timeout(DRAIN_WAIT, async {
            for _ in 0..DRAIN_EVENTS {
                if !matches!(events.next().await, Some(Ok(_))) {
                    break;
                }
            }
        })
        .await;
    });
}

/// The events of an upstream event-stream body, each bounded by `idle` (longest silence).
pub fn sse_events(
    body: UpstreamBody,
    idle: Duration,
) -> impl Stream<Item = Result<SseEvent, ProviderError>> + Send {
    struct State {
        body: UpstreamBody,
        parser: SseParser,
        ready: std::collections::VecDeque<SseEvent>,
        ended: bool,
    }
    let state = State {
        body,
        parser: SseParser::new(),
        ready: Default::default(),
        ended: false,
    };
    futures_util::stream::unfold(state, move |mut st| async move {
        loop {
            if let Some(ev) = st.ready.pop_front() {
                return Some((Ok(ev), st));
            }
            if st.ended {
                return None;
            }
            let mut out = Vec::new();
            match tokio::time::timeout(idle, st.body.frame()).await {
                Err(_) => {
                    st.ended = true;
                    return Some((Err(ProviderError::Timeout(TimeoutPhase::Total)), st));
                }
                Ok(None) => {
                    st.ended = true;
                    if let Err(e) = st.parser.finish(&mut out) {
                        return Some((Err(e), st));
                    }
                }
                Ok(Some(Err(e))) => {
                    st.ended = true;
                    return Some((
                        Err(ProviderError::InvalidResponse(format!(
                            "stream interrupted: {e}"
                        ))),
                        st,
                    ));
                }
                Ok(Some(Ok(frame))) => {
                    if let Ok(mut data) = frame.into_data() {
                        let bytes: Bytes = data.copy_to_bytes(data.remaining());
                        if let Err(e) = st.parser.push(&bytes, &mut out) {
                            st.ended = true;
                            return Some((Err(e), st));
                        }
                    }
                }
            }
            st.ready.extend(out);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(input: &str, piece: usize) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for chunk in input.as_bytes().chunks(piece) {
            p.push(chunk, &mut out).unwrap();
        }
        p.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn events_survive_any_split() {
        let input = "event: message_start\r\ndata: {\"a\":1}\r\n\r\n: ping\n\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n";
        for piece in 1..input.len() {
            let events = parse_in_pieces(input, piece);
            assert_eq!(events.len(), 3, "piece {piece}");
            assert_eq!(events[0].event.as_deref(), Some("message_start"));
            assert_eq!(events[0].data, "{\"a\":1}");
            assert_eq!(events[1].data, "line1\nline2");
            assert_eq!(events[2].data, "[DONE]");
        }
    }

    #[test]
    fn last_event_without_blank_line_is_kept() {
        let events = parse_in_pieces("data: x", 3);
        assert_eq!(
            events,
            vec![SseEvent {
                event: None,
                data: "x".into()
            }]
        );
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: \xff\xfe\n\n", &mut Vec::new()).is_err());
    }
}
