//! [`ResponsesSseBody`]: the pipeline's stream as Responses API events, each written as it is
//! produced. At the end the response is stored (with `store`) before the final
//! `response.completed` goes out, so a caller that sees it can continue from it at once.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame};

use gateway_core::{GatewayStream, StreamEvent};

use super::stream::{Event, ResponsesStreamEncoder};
use super::turn::{Pending, Saver};
use crate::dialects::anthropic::sse_frame;

type Saving = Pin<Box<dyn Future<Output = ()> + Send>>;

pub struct ResponsesSseBody {
    stream: GatewayStream,
    encoder: ResponsesStreamEncoder,
    saver: Option<Saver>,
    /// The store write in progress, and the final events held until it is done.
    saving: Option<(Saving, Bytes)>,
    done: bool,
}

impl ResponsesSseBody {
    pub fn new(stream: GatewayStream, pending: Pending) -> Self {
        let (shell, saver) = pending.into_parts();
        ResponsesSseBody {
            stream,
            encoder: ResponsesStreamEncoder::new(shell),
            saver,
            saving: None,
            done: false,
        }
    }
}

fn frames(events: &[Event]) -> Bytes {
    let mut out = BytesMut::new();
    for (name, data) in events {
        out.extend_from_slice(&sse_frame(name, data));
    }
    out.freeze()
}

impl HttpBody for ResponsesSseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        loop {
            if let Some((saving, _)) = self.saving.as_mut() {
                ready!(saving.as_mut().poll(cx));
                let held = self.saving.take().map(|(_, held)| held).unwrap_or_default();
                return Poll::Ready(Some(Ok(Frame::data(held))));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let events = match self.stream.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(StreamEvent::Chunk(chunk)))) => self.encoder.push(&chunk),
                Poll::Ready(Some(Ok(StreamEvent::KeepAlive))) => {
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                        b": keep-alive\n\n",
                    )))));
                }
                Poll::Ready(Some(Err(err))) => {
                    self.done = true;
                    tracing::warn!(status = err.status(), error = %err, "stream ended with an error");
                    self.encoder.fail(&err)
                }
                Poll::Ready(None) => {
                    self.done = true;
                    let events = self.encoder.finish();
                    if let Some(saver) = self.saver.take() {
                        let this = &mut *self;
                        let saving = saver.save_stream(&this.encoder);
                        this.saving = Some((saving, frames(&events)));
                        continue;
                    }
                    events
                }
            };
            if !events.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(frames(&events)))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.saving.is_none()
    }
}
