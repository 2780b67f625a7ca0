//! Tests of the event-stream parser and of the bounds of [`sse_events`].

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body::Frame;
use http_body_util::StreamBody;
use tokio::time::Instant;

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

const MIB: usize = 1024 * 1024;

/// Feeds `data: xxxx...` of `len` bytes in `piece`-byte writes, then its end.
fn feed_long_line(
    p: &mut SseParser,
    len: usize,
    piece: usize,
) -> Result<Vec<SseEvent>, ProviderError> {
    let mut out = Vec::new();
    p.push(b"data: ", &mut out)?;
    let chunk = vec![b'x'; piece];
    let mut sent = 0;
    while sent < len {
        let n = piece.min(len - sent);
        p.push(&chunk[..n], &mut out)?;
        sent += n;
    }
    p.push(b"\n\n", &mut out)?;
    Ok(out)
}

#[test]
fn a_line_in_many_small_writes_is_scanned_once() {
    let len = 9 * MIB;
    let mut p = SseParser::with_max_line(16 * MIB);
    let events = feed_long_line(&mut p, len, 512).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data.len(), len);
    // Every byte is searched for a line end once: rescanning the unfinished line on each of
    // its 18 432 writes would search ~86 GB.
    let input = (len + "data: ".len() + 2) as u64;
    assert_eq!(p.bytes_scanned(), input);
}

#[test]
fn an_over_long_line_is_an_error_at_the_cap() {
    let mut p = SseParser::new();
    let err = feed_long_line(&mut p, 9 * MIB, 512).unwrap_err();
    assert!(
        err.to_string().contains("line longer than 1048576 bytes"),
        "{err}"
    );
    // It stopped as soon as the line passed the cap, not after 9 MiB.
    assert!(p.bytes_scanned() <= (DEFAULT_MAX_LINE + 1024) as u64);
}

#[test]
fn an_over_long_line_in_one_write_is_an_error_too() {
    let mut p = SseParser::with_max_line(100);
    let line = format!("data: {}\n\n", "y".repeat(200));
    assert!(p.push(line.as_bytes(), &mut Vec::new()).is_err());
}

#[test]
fn an_event_of_many_short_lines_is_capped() {
    let mut p = SseParser::with_max_line(1000);
    let mut out = Vec::new();
    let mut result = Ok(());
    for _ in 0..200 {
        result = p.push(b"data: 0123456789\n", &mut out);
        if result.is_err() {
            break;
        }
    }
    let err = result.unwrap_err();
    assert!(err.to_string().contains("event longer than 1000"), "{err}");
    assert!(out.is_empty());
}

pub(crate) type Frames =
    std::pin::Pin<Box<dyn futures_core::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send>>;

/// A body that sends `first` once, then `repeat` every `every`, forever.
pub(crate) fn body(
    first: &'static str,
    repeat: &'static str,
    every: Duration,
) -> StreamBody<Frames> {
    let frames = futures_util::stream::unfold(true, move |first_time| async move {
        let text = if first_time {
            first
        } else {
            tokio::time::sleep(every).await;
            repeat
        };
        Some((Ok(Frame::data(Bytes::from_static(text.as_bytes()))), false))
    });
    StreamBody::new(Box::pin(frames) as Frames)
}

pub(crate) fn limits(idle: u64, max_duration: u64) -> StreamLimits {
    StreamLimits {
        idle: Duration::from_secs(idle),
        max_duration: Duration::from_secs(max_duration),
        max_line: DEFAULT_MAX_LINE,
    }
}

/// Reads the events until the first error (bounded: a stream that never ends fails the test).
async fn until_error<S>(events: S) -> (usize, ProviderError, Duration)
where
    S: Stream<Item = Result<SseEvent, ProviderError>>,
{
    let started = Instant::now();
    let mut events = std::pin::pin!(events);
    let mut count = 0;
    let outcome = tokio::time::timeout(Duration::from_secs(24 * 3600), async {
        loop {
            match events.next().await {
                Some(Ok(_)) => count += 1,
                Some(Err(e)) => return e,
                None => panic!("the stream ended without an error"),
            }
        }
    })
    .await;
    let err = outcome.expect("the stream was never ended");
    (count, err, started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn comments_alone_do_not_keep_a_stream_alive() {
    let events = sse_events(
        body("", ": ping\n\n", Duration::from_secs(1)),
        limits(10, 3600),
    );
    let (count, err, elapsed) = until_error(events).await;
    assert_eq!(count, 0);
    assert!(matches!(err, ProviderError::Timeout(TimeoutPhase::Total)));
    assert_eq!(elapsed, Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn comments_after_an_event_do_not_keep_a_stream_alive() {
    let first = "data: {\"x\":1}\n\n";
    let events = sse_events(
        body(first, ": ping\n\n", Duration::from_secs(1)),
        limits(10, 3600),
    );
    let (count, err, elapsed) = until_error(events).await;
    assert_eq!(count, 1);
    assert!(matches!(err, ProviderError::Timeout(TimeoutPhase::Total)));
    assert_eq!(elapsed, Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_never_ends_is_cut_at_its_maximum_duration() {
    let mut limits = limits(10, 30);
    limits.max_duration += Duration::from_millis(500);
    let events = sse_events(body("", "data: tick\n\n", Duration::from_secs(1)), limits);
    let (count, err, elapsed) = until_error(events).await;
    assert!(matches!(err, ProviderError::Timeout(TimeoutPhase::Total)));
    assert_eq!(elapsed, Duration::from_millis(30_500));
    assert_eq!(count, 30);
}

#[tokio::test(start_paused = true)]
async fn an_over_long_line_ends_the_stream_with_an_error() {
    let mut limits = limits(10, 3600);
    limits.max_line = 64;
    let events = sse_events(body("data: ", "xxxxxxxxxxxxxxxx", Duration::ZERO), limits);
    let mut events = std::pin::pin!(events);
    match events.next().await {
        Some(Err(ProviderError::InvalidResponse(message))) => {
            assert!(message.contains("longer than 64 bytes"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(events.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_slow_reader_is_not_a_silent_upstream() {
    // Events are always ready; the reader takes longer than the idle timeout between reads.
    let events = sse_events(body("", "data: tick\n\n", Duration::ZERO), limits(10, 3600));
    let mut events = std::pin::pin!(events);
    for _ in 0..5 {
        assert!(matches!(events.next().await, Some(Ok(_))));
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
}
