//! Drives a vendor's stateful event decoder over an upstream event-stream body: each SSE event
//! may yield any number of canonical [`StreamEvent`]s; the decoder says when the stream is
//! complete and what an early end of the body means.
//!
//! Silence is measured on what the decoder makes of the events: a vendor's keep-alive events
//! (Anthropic's `ping`) are no more progress than comment lines are, so an upstream that
//! only pings is ended after [`StreamLimits::idle`].

use std::collections::VecDeque;
use std::fmt::Display;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body::Body;

use gateway_core::{ChatStream, ProviderError, StreamEvent};

use crate::sse::{
    EventParser, SilenceTimer, SseEvent, SseParser, StreamLimits, drain_in_background,
    framed_events,
};

/// A vendor's translation of its event stream into canonical events.
pub trait SseDecoder: Send + 'static {
    /// Handle one event, pushing what it means onto `out`. `Ok(true)` ends the stream (the
    /// vendor's own end marker was seen).
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError>;

    /// The body ended without an end marker: push final events, or fail if the stream was cut.
    fn on_eof(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError>;
}

/// Canonical events of a whole event-stream text (fixtures and tests); stops at the first error.
pub fn decode_text<D: SseDecoder>(
    decoder: &mut D,
    text: &str,
) -> Result<Vec<StreamEvent>, ProviderError> {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    parser.push(text.as_bytes(), &mut events)?;
    parser.finish(&mut events)?;
    let mut out = VecDeque::new();
    for event in &events {
        if decoder.on_event(event, &mut out)? {
            return Ok(out.into());
        }
    }
    decoder.on_eof(&mut out)?;
    Ok(out.into())
}

/// The canonical stream of an upstream event-stream (SSE) body, within `limits`.
pub fn decode_body<D, B>(body: B, limits: StreamLimits, decoder: D) -> ChatStream
where
    D: SseDecoder,
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Display,
{
    decode_framed(
        body,
        limits,
        SseParser::with_max_line(limits.max_line),
        decoder,
    )
}

/// The canonical stream of an upstream body framed as `parser` reads it, within `limits`.
pub fn decode_framed<D, B, P>(body: B, limits: StreamLimits, parser: P, decoder: D) -> ChatStream
where
    D: SseDecoder,
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Display,
    P: EventParser,
{
    struct State<D> {
        events: std::pin::Pin<
            Box<dyn futures_core::Stream<Item = Result<SseEvent, ProviderError>> + Send>,
        >,
        decoder: D,
        timer: SilenceTimer,
        ready: VecDeque<StreamEvent>,
        ended: bool,
        /// The vendor's end marker was seen: the rest of the body is read after the stream
        /// ends, so that its connection can be reused.
        marked_end: bool,
    }
    let state = State {
        events: Box::pin(framed_events(body, limits, parser)),
        decoder,
        timer: SilenceTimer::new(&limits),
        ready: VecDeque::new(),
        ended: false,
        marked_end: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(event) = st.ready.pop_front() {
                return Some((Ok(event), st));
            }
            if st.ended {
                if st.marked_end {
                    drain_in_background(st.events);
                }
                return None;
            }
            let step = match st.timer.wait(st.events.next()).await {
                Err(timeout) => Err(timeout),
                Ok(None) => st.decoder.on_eof(&mut st.ready).map(|()| true),
                Ok(Some(Err(e))) => Err(e),
                Ok(Some(Ok(event))) => {
                    let done = st.decoder.on_event(&event, &mut st.ready);
                    st.marked_end = matches!(done, Ok(true));
                    done
                }
            };
            match step {
                Ok(done) => {
                    st.ended = done;
                    if st
                        .ready
                        .iter()
                        .any(|e| !matches!(e, StreamEvent::KeepAlive))
                    {
                        st.timer.progress();
                    }
                }
                Err(e) => {
                    // Everything decoded before this step was delivered; the failed step's events are not.
                    st.ended = true;
                    st.ready.clear();
                    return Some((Err(e), st));
                }
            }
        }
    }))
}

#[cfg(test)]
#[path = "vendor_stream_tests.rs"]
mod tests;
