//! Incremental server-sent-events parsing (the WHATWG event-stream format), robust to events
//! split anywhere across network reads, and the stream of events read from an upstream body.
//!
//! Parsing is linear in its input: the bytes of an unfinished line are searched for its end
//! once, however many reads the line arrives in. A line, or the data of one event, longer
//! than [`StreamLimits::max_line`] ends the stream with an error instead of growing without
//! bound; so does silence (no event: comment lines such as `: ping` do not count) longer than
//! [`StreamLimits::idle`], and a stream lasting longer than [`StreamLimits::max_duration`].

use std::fmt::Display;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use http_body::Body;
use http_body_util::BodyExt;
use tokio::time::Instant;

use gateway_core::{ProviderError, TimeoutPhase};

/// One event: its `event:` name (if any) and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Longest event-stream line (and largest event data) accepted unless configured otherwise.
pub const DEFAULT_MAX_LINE: usize = 1024 * 1024;

/// Feeds bytes in, takes complete events out.
#[derive(Debug)]
pub struct SseParser {
    buf: BytesMut,
    /// Leading bytes of `buf` already searched for a line end (none there).
    scanned: usize,
    current: SseEvent,
    has_data: bool,
    max_line: usize,
    /// Bytes searched for a line end so far: the parser's work, which tests bound.
    bytes_scanned: u64,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::with_max_line(DEFAULT_MAX_LINE)
    }
}

fn too_long(what: &str, max_line: usize) -> ProviderError {
    ProviderError::InvalidResponse(format!("event-stream {what} longer than {max_line} bytes"))
}

impl SseParser {
    /// A parser accepting lines of up to [`DEFAULT_MAX_LINE`] bytes.
    pub fn new() -> Self {
        SseParser::default()
    }

    /// A parser accepting lines (and event data) of up to `max_line` bytes.
    pub fn with_max_line(max_line: usize) -> Self {
        SseParser {
            buf: BytesMut::new(),
            scanned: 0,
            current: SseEvent::default(),
            has_data: false,
            max_line,
            bytes_scanned: 0,
        }
    }

    /// How many bytes have been searched for a line end: linear in the input.
    pub fn bytes_scanned(&self) -> u64 {
        self.bytes_scanned
    }

    /// Append bytes and push every event they complete onto `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        self.buf.extend_from_slice(bytes);
        loop {
            let unscanned = self.buf.get(self.scanned..).unwrap_or_default();
            let Some(offset) = memchr::memchr(b'\n', unscanned) else {
                self.bytes_scanned += unscanned.len() as u64;
                self.scanned = self.buf.len();
                break;
            };
            self.bytes_scanned += offset as u64 + 1;
            let end = self.scanned + offset;
            self.scanned = 0;
            if end > self.max_line {
                return Err(too_long("line", self.max_line));
            }
            let mut line = self.buf.split_to(end + 1);
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            self.line(&line, out)?;
        }
        if self.buf.len() > self.max_line {
            return Err(too_long("line", self.max_line));
        }
        Ok(())
    }

    /// The body ended: a final event without its blank line still counts.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        if !self.buf.is_empty() {
            let line = self.buf.split();
            self.scanned = 0;
            self.line(&line, out)?;
        }
        self.dispatch(out);
        Ok(())
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        let Some(&first) = line.first() else {
            self.dispatch(out);
            return Ok(());
        };
        if first == b':' {
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
                if self.current.data.len() + value.len() + 1 > self.max_line {
                    return Err(too_long("event", self.max_line));
                }
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

/// The bounds of one upstream event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Longest silence: time spent waiting for the upstream without an event arriving
    /// (comment lines do not count).
    pub idle: Duration,
    /// Longest the whole stream may last, from its response head.
    pub max_duration: Duration,
    /// Longest line, and largest data of one event, in bytes.
    pub max_line: usize,
}

/// `now + d`, saturating far in the future instead of overflowing.
pub(crate) fn deadline_after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Counts the time spent waiting for progress; progress resets it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SilenceTimer {
    idle: Duration,
    silent: Duration,
    end: Instant,
}

impl SilenceTimer {
    pub(crate) fn new(limits: &StreamLimits) -> Self {
        SilenceTimer {
            idle: limits.idle,
            silent: Duration::ZERO,
            end: deadline_after(Instant::now(), limits.max_duration),
        }
    }

    /// Run `wait`, failing with a timeout once the silence or the stream's duration is over.
    pub(crate) async fn wait<F: Future>(&mut self, wait: F) -> Result<F::Output, ProviderError> {
        let started = Instant::now();
        let silence_over = deadline_after(started, self.idle.saturating_sub(self.silent));
        let result = tokio::time::timeout_at(silence_over.min(self.end), wait).await;
        self.silent += started.elapsed();
        result.map_err(|_| ProviderError::Timeout(TimeoutPhase::Total))
    }

    /// Something that counts arrived: silence starts again.
    pub(crate) fn progress(&mut self) {
        self.silent = Duration::ZERO;
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

/// A framing of events in a body: SSE text ([`SseParser`]), or a binary one (Bedrock's
/// `application/vnd.amazon.eventstream`) whose messages are handed on as [`SseEvent`]s.
pub trait EventParser: Send + 'static {
    /// Feeds `bytes` in, pushing the events they complete onto `out`.
    fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError>;
    /// The body ended: the last events, or an error for a partial one.
    fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), ProviderError>;
}

impl EventParser for SseParser {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        SseParser::push(self, bytes, out)
    }

    fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        SseParser::finish(self, out)
    }
}

/// The events of an upstream event-stream body, within `limits`.
pub fn sse_events<B>(
    body: B,
    limits: StreamLimits,
) -> impl Stream<Item = Result<SseEvent, ProviderError>> + Send
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Display,
{
    framed_events(body, limits, SseParser::with_max_line(limits.max_line))
}

/// The events `parser` finds in an upstream body, within `limits`' silence and duration.
pub fn framed_events<B, P>(
    body: B,
    limits: StreamLimits,
    parser: P,
) -> impl Stream<Item = Result<SseEvent, ProviderError>> + Send
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Display,
    P: EventParser,
{
    struct State<B, P> {
        body: B,
        parser: P,
        timer: SilenceTimer,
        ready: std::collections::VecDeque<SseEvent>,
        ended: bool,
    }
    let state = State {
        body,
        parser,
        timer: SilenceTimer::new(&limits),
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
            let failed = match st.timer.wait(st.body.frame()).await {
                Err(timeout) => Some(timeout),
                Ok(None) => {
                    st.ended = true;
                    st.parser.finish(&mut out).err()
                }
                Ok(Some(Err(e))) => Some(ProviderError::InvalidResponse(format!(
                    "stream interrupted: {e}"
                ))),
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(mut data) => {
                        let bytes: Bytes = data.copy_to_bytes(data.remaining());
                        st.parser.push(&bytes, &mut out).err()
                    }
                    Err(_) => None, // trailers
                },
            };
            if let Some(e) = failed {
                st.ended = true;
                return Some((Err(e), st));
            }
            if !out.is_empty() {
                st.timer.progress();
            }
            st.ready.extend(out);
        }
    })
}

#[cfg(test)]
#[path = "sse_tests.rs"]
pub(crate) mod tests;
