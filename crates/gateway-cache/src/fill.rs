//! Filling the cache from a stream: [`CacheFillStream`] passes every event through unchanged,
//! accumulates the chunks, and stores the answer only when the stream ended cleanly and every
//! choice finished. An error, a stream dropped early (client gone, guardrail block) or an
//! unfinished choice stores nothing.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::Stream;
use gateway_core::StreamEvent;

use crate::accumulate::StreamAccumulator;
use crate::backend::CacheBackend;
use crate::cache::{CacheFill, store_entry};
use crate::entry::CachedResponse;

/// Where and how to store the answer once the stream completes.
pub(crate) struct PendingFill {
    pub backend: Arc<dyn CacheBackend>,
    pub fill: CacheFill,
    pub provider: Option<Arc<str>>,
    pub upstream_model: Option<Arc<str>>,
}

/// A stream that fills the cache when it completes. See [`crate::Cache::fill_stream`].
pub struct CacheFillStream<S> {
    inner: S,
    acc: StreamAccumulator,
    pending: Option<PendingFill>,
}

impl<S> CacheFillStream<S> {
    pub(crate) fn new(inner: S, pending: Option<PendingFill>) -> Self {
        CacheFillStream {
            inner,
            acc: StreamAccumulator::new(),
            pending,
        }
    }

    fn complete(&mut self) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let Some(response) = std::mem::take(&mut self.acc).finish() else {
            tracing::debug!("stream ended unfinished; not cached");
            return;
        };
        let entry = CachedResponse {
            response,
            provider: pending.provider,
            upstream_model: pending.upstream_model,
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    store_entry(pending.backend.as_ref(), &pending.fill, &entry).await;
                });
            }
            Err(_) => tracing::debug!("no runtime to store a streamed answer; not cached"),
        }
    }
}

impl<S, E> Stream for CacheFillStream<S>
where
    S: Stream<Item = Result<StreamEvent, E>> + Unpin,
{
    type Item = Result<StreamEvent, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = std::task::ready!(Pin::new(&mut this.inner).poll_next(cx));
        match &item {
            Some(Ok(StreamEvent::Chunk(chunk))) if this.pending.is_some() => this.acc.push(chunk),
            Some(Ok(_)) => {}
            // A failed stream is never cached, whatever follows.
            Some(Err(_)) => this.pending = None,
            None => this.complete(),
        }
        Poll::Ready(item)
    }
}

impl<S> std::fmt::Debug for CacheFillStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheFillStream")
            .field("filling", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}
