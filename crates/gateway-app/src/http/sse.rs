//! A streamed completion as a `text/event-stream` body: each event is written as soon as the
//! pipeline yields it; a mid-stream error becomes a final `error` event. Dropping the body
//! (the client went away) drops the pipeline stream, which cancels the upstream call.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame};

use gateway_core::{GatewayStream, StreamEvent};

use super::error::error_json;

pub struct SseBody {
    stream: GatewayStream,
    done: bool,
}

impl SseBody {
    pub fn new(stream: GatewayStream) -> Self {
        SseBody {
            stream,
            done: false,
        }
    }
}

fn data_frame(json: &impl serde::Serialize) -> Bytes {
    let mut buf = BytesMut::with_capacity(256).writer();
    buf.get_mut().put_slice(b"data: ");
    if serde_json::to_writer(&mut buf, json).is_err() {
        return Bytes::from_static(b": encoding error\n\n");
    }
    let mut buf = buf.into_inner();
    buf.put_slice(b"\n\n");
    buf.freeze()
}

impl HttpBody for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let bytes = match self.stream.as_mut().poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Ok(StreamEvent::Chunk(chunk)))) => data_frame(&chunk),
            Poll::Ready(Some(Ok(StreamEvent::KeepAlive))) => {
                Bytes::from_static(b": keep-alive\n\n")
            }
            Poll::Ready(Some(Err(err))) => {
                self.done = true;
                tracing::warn!(status = err.status(), error = %err, "stream ended with an error");
                data_frame(&error_json(&err))
            }
            Poll::Ready(None) => {
                self.done = true;
                Bytes::from_static(b"data: [DONE]\n\n")
            }
        };
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}
