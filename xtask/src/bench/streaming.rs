//! Streaming measurements built on [`stream`]: time to first token over many
//! requests, and many concurrent streams that must all complete without stalls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::stream::{self, Outcome, StreamRequest, StreamResult};

/// Time to first token over sequential-ish streaming requests.
#[derive(Debug, Clone, Serialize)]
pub struct TtftSummary {
    pub requests: usize,
    pub completed: usize,
    pub stalled: usize,
    pub failed: usize,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub first_error: Option<String>,
}

/// Many streams opened at once.
#[derive(Debug, Clone, Serialize)]
pub struct ConcurrentSummary {
    pub streams: usize,
    pub completed: usize,
    pub stalled: usize,
    pub failed: usize,
    pub ttft_p50_ms: Option<f64>,
    pub ttft_p99_ms: Option<f64>,
    pub slowest_ms: Option<f64>,
    pub first_error: Option<String>,
}

impl ConcurrentSummary {
    pub fn all_completed(&self) -> bool {
        self.streams > 0 && self.completed == self.streams
    }
}

/// Runs up to `count` streams, `concurrency` at a time, stopping early at `time_limit`.
pub fn ttft(
    request: &StreamRequest,
    count: usize,
    concurrency: usize,
    time_limit: Duration,
    stall: Duration,
) -> TtftSummary {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + time_limit;
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let next = Arc::clone(&next);
            let request = request.clone();
            thread::spawn(move || {
                let mut results = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < count && Instant::now() < deadline {
                    results.push(stream::run_one(&request, stall));
                }
                results
            })
        })
        .collect();
    let results: Vec<StreamResult> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap_or_default())
        .collect();
    let counts = Counts::of(&results);
    let ttfts = sorted_ms(results.iter().filter_map(|r| r.ttft));
    TtftSummary {
        requests: results.len(),
        completed: counts.completed,
        stalled: counts.stalled,
        failed: counts.failed,
        p50_ms: percentile(&ttfts, 50.0),
        p99_ms: percentile(&ttfts, 99.0),
        first_error: counts.first_error,
    }
}

/// Opens `streams` connections, releases all requests at once, reads every stream to
/// its end. Bounded: each read waits at most `stall`.
pub fn concurrent(request: &StreamRequest, streams: usize, stall: Duration) -> ConcurrentSummary {
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let mut handles = Vec::with_capacity(streams);
    let mut spawn_errors = Vec::new();
    for _ in 0..streams {
        let prepared = stream::prepare(request, stall);
        let gate = Arc::clone(&gate);
        let spawned = thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || {
                let (open, cvar) = &*gate;
                let mut go = open.lock().unwrap_or_else(|p| p.into_inner());
                while !*go {
                    go = cvar.wait(go).unwrap_or_else(|p| p.into_inner());
                }
                drop(go);
                prepared.send()
            });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(err) => spawn_errors.push(format!("thread spawn: {err}")),
        }
    }
    {
        let (open, cvar) = &*gate;
        *open.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cvar.notify_all();
    }
    let mut results: Vec<StreamResult> =
        handles.into_iter().filter_map(|h| h.join().ok()).collect();
    results.extend(spawn_errors.into_iter().map(|why| StreamResult {
        outcome: Outcome::Failed(why),
        ttft: None,
        total: Duration::ZERO,
    }));
    let counts = Counts::of(&results);
    let ttfts = sorted_ms(results.iter().filter_map(|r| r.ttft));
    let totals = sorted_ms(results.iter().map(|r| r.total));
    ConcurrentSummary {
        streams,
        completed: counts.completed,
        stalled: counts.stalled,
        failed: streams - counts.completed - counts.stalled,
        ttft_p50_ms: percentile(&ttfts, 50.0),
        ttft_p99_ms: percentile(&ttfts, 99.0),
        slowest_ms: totals.last().copied(),
        first_error: counts.first_error,
    }
}

struct Counts {
    completed: usize,
    stalled: usize,
    failed: usize,
    first_error: Option<String>,
}

impl Counts {
    fn of(results: &[StreamResult]) -> Self {
        let mut counts = Self {
            completed: 0,
            stalled: 0,
            failed: 0,
            first_error: None,
        };
        for result in results {
            match &result.outcome {
                Outcome::Done => counts.completed += 1,
                Outcome::Stalled => counts.stalled += 1,
                Outcome::Failed(why) => {
                    counts.failed += 1;
                    counts.first_error.get_or_insert_with(|| why.clone());
                }
            }
        }
        counts
    }
}

fn sorted_ms(values: impl Iterator<Item = Duration>) -> Vec<f64> {
    let mut ms: Vec<f64> = values.map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    ms
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 99.9), Some(100.0));
        assert_eq!(percentile(&[7.0], 50.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    /// A tiny SSE server: every connection gets two events and [DONE].
    fn sse_server(connections: usize) -> StreamRequest {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for conn in listener.incoming().take(connections) {
                let mut conn = conn.unwrap();
                thread::spawn(move || {
                    let mut buf = [0u8; 2048];
                    let _ = conn.read(&mut buf).unwrap();
                    let body = "data: {\"a\":1}\n\ndata: [DONE]\n\n";
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    conn.write_all(head.as_bytes()).unwrap();
                    thread::sleep(Duration::from_millis(20));
                    conn.write_all(body.as_bytes()).unwrap();
                });
            }
        });
        StreamRequest {
            addr,
            path: "/v1/chat/completions".into(),
            authorization: None,
            body: "{}".into(),
        }
    }

    #[test]
    fn concurrent_streams_all_complete() {
        let summary = concurrent(&sse_server(32), 32, Duration::from_secs(5));
        assert!(summary.all_completed(), "{summary:?}");
        assert!(summary.ttft_p50_ms.unwrap() >= 15.0);
    }

    #[test]
    fn ttft_runs_the_requested_count() {
        let summary = ttft(
            &sse_server(10),
            10,
            3,
            Duration::from_secs(10),
            Duration::from_secs(5),
        );
        assert_eq!(
            (summary.requests, summary.completed),
            (10, 10),
            "{summary:?}"
        );
        assert!(summary.p99_ms.unwrap() >= summary.p50_ms.unwrap());
    }
}
