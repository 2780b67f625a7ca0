//! Streams through the router: the first event is awaited before a stream is handed out (so an
//! upstream that accepts and then fails at once can still fall back: nothing has reached the
//! client yet), and the handed-out stream keeps its deployment's in-flight permit until it is
//! dropped, reporting a later failure to the circuit breaker.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::StreamExt;
use tokio::time::Instant;

use gateway_core::{ChatStream, ProviderError, StreamEvent};

use super::health::InFlight;
use super::policy::CircuitConfig;

/// A stream whose first content event has arrived.
pub(crate) struct Peeked {
    first: StreamEvent,
    rest: ChatStream,
}

/// Wait for the first event that is not a keep-alive.
pub(crate) async fn first_event(mut stream: ChatStream) -> Result<Peeked, ProviderError> {
    loop {
        match stream.next().await {
            None => {
                return Err(ProviderError::InvalidResponse(
                    "upstream stream ended before any event".to_owned(),
                ));
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(StreamEvent::KeepAlive)) => {}
            Some(Ok(first)) => {
                return Ok(Peeked {
                    first,
                    rest: stream,
                });
            }
        }
    }
}

struct Guarded {
    first: Option<StreamEvent>,
    rest: ChatStream,
    permit: InFlight,
    circuit: CircuitConfig,
    failed: bool,
}

impl Stream for Guarded {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        let next = this.rest.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Err(e))) = &next
            && !this.failed
        {
            this.failed = true;
            this.permit.failed(e, Instant::now(), &this.circuit);
        }
        next
    }
}

/// Hand out a peeked stream holding `permit` for its lifetime.
pub(crate) fn guarded(peeked: Peeked, permit: InFlight, circuit: CircuitConfig) -> ChatStream {
    Box::pin(Guarded {
        first: Some(peeked.first),
        rest: peeked.rest,
        permit,
        circuit,
        failed: false,
    })
}
