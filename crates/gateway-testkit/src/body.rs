//! The response body type: either one complete buffer, or a scripted sequence of
//! server-sent events emitted one HTTP body frame at a time.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// How long an aborting stream waits after its last event before failing the body,
/// so that the events already produced reach the socket before the connection is cut.
const ABORT_FLUSH_DELAY: Duration = Duration::from_millis(10);

/// The error a body yields to make hyper cut the connection (HTTP/1.1) or reset
/// the stream (HTTP/2) without a proper end of message.
#[derive(Debug)]
pub struct StreamAborted;

impl fmt::Display for StreamAborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mock stream aborted on purpose")
    }
}

impl std::error::Error for StreamAborted {}

/// Body of every mock response.
pub struct MockBody {
    kind: Kind,
}

enum Kind {
    Full(Option<Bytes>),
    Events(EventStream),
}

struct EventStream {
    events: VecDeque<Bytes>,
    gap: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    abort: bool,
}

impl MockBody {
    /// A complete body sent as one frame, with a known length.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes: Bytes = bytes.into();
        let inner = if bytes.is_empty() { None } else { Some(bytes) };
        Self {
            kind: Kind::Full(inner),
        }
    }

    /// Events sent one frame each, `gap` apart; when `abort` is set the body fails
    /// after the last event instead of ending cleanly.
    pub fn events(events: VecDeque<Bytes>, gap: Duration, abort: bool) -> Self {
        Self {
            kind: Kind::Events(EventStream {
                events,
                gap,
                sleep: None,
                abort,
            }),
        }
    }
}

impl EventStream {
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamAborted>>> {
        if let Some(sleep) = self.sleep.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            self.sleep = None;
        }
        if let Some(event) = self.events.pop_front() {
            let wait = if !self.events.is_empty() {
                self.gap
            } else if self.abort {
                self.gap.max(ABORT_FLUSH_DELAY)
            } else {
                Duration::ZERO
            };
            if !wait.is_zero() {
                self.sleep = Some(Box::pin(tokio::time::sleep(wait)));
            }
            return Poll::Ready(Some(Ok(Frame::data(event))));
        }
        if self.abort {
            self.abort = false;
            return Poll::Ready(Some(Err(StreamAborted)));
        }
        Poll::Ready(None)
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = StreamAborted;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Events(stream) => stream.poll_next(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Events(s) => s.events.is_empty() && !s.abort && s.sleep.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Events(_) => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn full_body_is_one_frame_with_exact_size() {
        let body = MockBody::full(Bytes::from_static(b"hello"));
        assert_eq!(body.size_hint().exact(), Some(5));
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(&collected[..], b"hello");
    }

    #[tokio::test]
    async fn aborting_stream_yields_events_then_error() {
        let events = VecDeque::from(vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]);
        let mut body = MockBody::events(events, Duration::ZERO, true);
        let a = body.frame().await.unwrap().unwrap().into_data().unwrap();
        let b = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!((&a[..], &b[..]), (&b"a"[..], &b"b"[..]));
        assert!(body.frame().await.unwrap().is_err());
        assert!(body.frame().await.is_none());
    }
}
