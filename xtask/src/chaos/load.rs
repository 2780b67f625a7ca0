//! Steady load over several gateway instances, as a client behind a plain load balancer
//! sends it: round-robin, a refused connection is retried on the next instance (not lost),
//! and every call is recorded with its time and answer (its request id `{prefix}-N` finds
//! its usage record).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::soak::client::{Call, send};
use crate::soak::stack::CALLER_KEY;

/// One call as the client saw it.
#[derive(Debug, Clone)]
pub struct Record {
    /// Which instance answered (or was last tried).
    pub instance: usize,
    /// When the answer ended, since the load started.
    pub end: Duration,
    /// Since the load started.
    pub at: Duration,
    /// The HTTP status, or `None` when no answer came (the call is lost).
    pub status: Option<u16>,
    pub cache_hit: bool,
}

/// A running load; [`Load::finish`] stops it and returns the records.
pub struct Load {
    stop: Arc<AtomicBool>,
    records: Arc<Mutex<Vec<Record>>>,
    threads: Vec<thread::JoinHandle<()>>,
    pub started: Instant,
}

/// The model names the load alternates: a plain call (varied text) and a cached one.
pub const PLAIN_MODEL: &str = "chaos";
pub const CACHED_MODEL: &str = "chaos-cached";

impl Load {
    /// `threads` clients, each sending a call every `interval`, request ids `{prefix}-N`.
    pub fn start(
        instances: Vec<SocketAddr>,
        threads: usize,
        interval: Duration,
        prefix: &str,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let records = Arc::new(Mutex::new(Vec::new()));
        let counter = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let instances = Arc::new(instances);
        let threads = (0..threads)
            .map(|_| {
                let (stop, records, counter) = (stop.clone(), records.clone(), counter.clone());
                let instances = Arc::clone(&instances);
                let prefix = prefix.to_owned();
                thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        let record = one_call(&instances, n, &prefix, started);
                        records
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(record);
                        thread::sleep(interval);
                    }
                })
            })
            .collect();
        Self {
            stop,
            records,
            threads,
            started,
        }
    }

    /// Stops the clients (their calls in flight finish) and returns every record.
    pub fn finish(self) -> Vec<Record> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        records.sort_by_key(|r| r.at);
        records
    }
}

fn one_call(instances: &[SocketAddr], n: u64, prefix: &str, started: Instant) -> Record {
    let cached = n % 2 == 1;
    let (model, text) = if cached {
        (CACHED_MODEL, "The same question each time.".to_owned())
    } else {
        (PLAIN_MODEL, format!("Chaos call {n}."))
    };
    let body = serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "max_tokens": 16,
    })
    .to_string();
    let request_id = format!("{prefix}-{n}");
    let mut call = Call::post_json("/v1/chat/completions", CALLER_KEY, body);
    call.headers.push(format!("x-request-id: {request_id}"));
    let first = (n as usize) % instances.len().max(1);
    let mut status = None;
    let mut cache_hit = false;
    let at = started.elapsed();
    let mut instance = first;
    for k in 0..instances.len() {
        instance = (first + k) % instances.len();
        match send(instances[instance], &call, Duration::from_secs(15)) {
            Ok(answer) => {
                status = Some(answer.status);
                cache_hit = answer
                    .text
                    .to_ascii_lowercase()
                    .contains("x-gateway-cache: hit");
                break;
            }
            // refused: the instance is down, the balancer tries the next one
            Err(e) if e.starts_with("connect") => continue,
            Err(_) => break,
        }
    }
    Record {
        instance,
        end: started.elapsed(),
        at,
        status,
        cache_hit,
    }
}

/// The calls `instance` answered 200 in the `window` before `until`.
pub fn answered_before(
    records: &[Record],
    instance: usize,
    until: Duration,
    window: Duration,
) -> u64 {
    let from = until.saturating_sub(window);
    records
        .iter()
        .filter(|r| r.instance == instance && r.status == Some(200))
        .filter(|r| r.end >= from && r.end <= until)
        .count() as u64
}

/// Calls without a 200 answer.
pub fn lost(records: &[Record]) -> usize {
    records.iter().filter(|r| r.status != Some(200)).count()
}

/// From `from` (since the load started), how long until calls succeed again for good: the
/// end of the last failed call after `from`, or zero when none failed.
pub fn recovery_after(records: &[Record], from: Duration) -> Duration {
    records
        .iter()
        .filter(|r| r.at >= from && r.status != Some(200))
        .map(|r| r.at.saturating_sub(from))
        .max()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at_ms: u64, status: Option<u16>) -> Record {
        Record {
            instance: 0,
            end: Duration::from_millis(at_ms),
            at: Duration::from_millis(at_ms),
            status,
            cache_hit: false,
        }
    }

    #[test]
    fn losses_and_recovery_are_counted_from_the_records() {
        let records = vec![
            record(100, Some(200)),
            record(1_000, Some(503)),
            record(1_500, None),
            record(2_500, Some(200)),
        ];
        assert_eq!(lost(&records), 2);
        assert_eq!(
            recovery_after(&records, Duration::from_millis(900)),
            Duration::from_millis(600)
        );
        assert_eq!(
            recovery_after(&records, Duration::from_secs(2)),
            Duration::ZERO
        );
    }
}
