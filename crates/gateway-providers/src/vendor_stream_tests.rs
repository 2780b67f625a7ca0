//! Tests of the bounds [`decode_body`] puts on a decoded stream.

use std::time::Duration;

use futures_util::StreamExt;
use gateway_core::{ChatChunk, TimeoutPhase};

use super::*;
use crate::sse::tests::{body, limits};

/// `event: ping` is a keep-alive, any other event a chunk.
struct PingOrChunk;

impl SseDecoder for PingOrChunk {
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, ProviderError> {
        if event.event.as_deref() == Some("ping") {
            out.push_back(StreamEvent::KeepAlive);
        } else {
            let chunk: ChatChunk = serde_json::from_str(r#"{"id":"c","model":"m"}"#)
                .map_err(|e| ProviderError::InvalidResponse(e.to_string()))?;
            out.push_back(StreamEvent::Chunk(chunk));
        }
        Ok(false)
    }

    fn on_eof(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn vendor_keep_alive_events_do_not_keep_a_stream_alive() {
    let ping = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
    let first = "event: delta\ndata: {}\n\n";
    let started = tokio::time::Instant::now();
    let mut stream = decode_body(
        body(first, ping, Duration::from_secs(1)),
        limits(10, 3600),
        PingOrChunk,
    );
    let (mut chunks, mut pings) = (0, 0);
    let ended = tokio::time::timeout(Duration::from_secs(24 * 3600), async {
        loop {
            match stream.next().await {
                Some(Ok(StreamEvent::Chunk(_))) => chunks += 1,
                Some(Ok(StreamEvent::KeepAlive)) => pings += 1,
                Some(Err(e)) => return e,
                None => panic!("the stream ended without an error"),
            }
        }
    })
    .await
    .expect("a stream of pings was never ended");
    assert!(matches!(ended, ProviderError::Timeout(TimeoutPhase::Total)));
    assert_eq!(chunks, 1);
    assert!(pings >= 9, "{pings}");
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert!(stream.next().await.is_none());
}
