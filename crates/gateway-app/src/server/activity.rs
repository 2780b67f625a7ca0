//! What the listener knows about each open connection — whether a request is in flight, since
//! when it has been idle, whether it ever carried a request — and the table of open
//! connections that enforces `server.max_connections`. Timeouts and the cap close idle
//! connections only, never one serving a request.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use gateway_telemetry::Metrics;
use gateway_telemetry::metrics::{CloseReason, OpenConnection};
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::Notify;

/// One connection's activity, shared by its requests and its timer.
pub(super) struct Activity {
    epoch: Instant,
    in_flight: AtomicUsize,
    served: AtomicBool,
    /// Milliseconds after `epoch` when the last request ended (or the connection opened).
    idle_since_ms: AtomicU64,
    evicted: AtomicBool,
    evict: Notify,
}

impl Activity {
    fn new(epoch: Instant) -> Activity {
        Activity {
            epoch,
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            idle_since_ms: AtomicU64::new(millis_since(epoch, Instant::now())),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        }
    }

    /// A request starts; it is in flight until the guard (carried by its response body) drops.
    pub(super) fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.served.store(true, Ordering::Release);
        Busy(self.clone())
    }

    /// Whether a request ever arrived on this connection.
    pub(super) fn has_served(&self) -> bool {
        self.served.load(Ordering::Acquire)
    }

    /// How long no request has been in flight as of `now`; `None` while one is.
    pub(super) fn idle_for(&self, now: Instant) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = self.idle_since_ms.load(Ordering::Acquire);
        Some(Duration::from_millis(
            millis_since(self.epoch, now).saturating_sub(since),
        ))
    }

    /// Resolves once the table asks this connection to make room.
    pub(super) async fn evicted(&self) {
        self.evict.notified().await;
    }
}

fn millis_since(epoch: Instant, now: Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(epoch).as_millis()).unwrap_or(u64::MAX)
}

/// A request in flight on a connection.
pub(super) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let a = &self.0;
        // Stamp first: whoever sees the count at 0 also sees when it got there.
        a.idle_since_ms
            .store(millis_since(a.epoch, Instant::now()), Ordering::Release);
        a.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request in flight until the body is done with.
pub(super) struct Tracked<B> {
    body: B,
    _busy: Busy,
}

impl<B> Tracked<B> {
    pub(super) fn new(body: B, busy: Busy) -> Self {
        Tracked { body, _busy: busy }
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The open connections, at most `max` (one over while an evicted one closes).
pub(super) struct Table {
    epoch: Instant,
    max: usize,
    open: AtomicUsize,
    next_id: AtomicU64,
    entries: Mutex<HashMap<u64, Arc<Activity>>>,
    metrics: Arc<Metrics>,
}

impl Table {
    pub(super) fn new(max: usize, metrics: Arc<Metrics>) -> Arc<Table> {
        Arc::new(Table {
            epoch: Instant::now(),
            max,
            open: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
            metrics,
        })
    }

    pub(super) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Admits a new connection, making room by evicting the longest-idle one at the cap;
    /// `None` (counted) when every open connection is serving a request.
    pub(super) fn admit(self: &Arc<Self>) -> Option<Entry> {
        if self.open.load(Ordering::Acquire) >= self.max && !self.evict_idlest() {
            self.metrics.connections().refused();
            return None;
        }
        self.open.fetch_add(1, Ordering::AcqRel);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new(self.epoch));
        self.lock().insert(id, activity.clone());
        Some(Entry {
            table: self.clone(),
            id,
            activity,
            _open: self.metrics.connections().open(),
        })
    }

    /// Asks the connection idle the longest to close: one that never carried a request
    /// before one that did (a kept-alive client). Returns whether there was one.
    pub(super) fn evict_idlest(&self) -> bool {
        let now = Instant::now();
        let entries = self.lock();
        let idlest = entries
            .values()
            .filter(|a| !a.evicted.load(Ordering::Acquire))
            .filter_map(|a| a.idle_for(now).map(|idle| (!a.has_served(), idle, a)))
            .max_by_key(|(never_served, idle, _)| (*never_served, *idle));
        match idlest {
            Some((_, _, activity)) => {
                activity.evicted.store(true, Ordering::Release);
                activity.evict.notify_one();
                self.metrics.connections().closed(CloseReason::Evicted);
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// An admitted connection's place in the table, released when its task ends.
pub(super) struct Entry {
    table: Arc<Table>,
    id: u64,
    activity: Arc<Activity>,
    _open: OpenConnection,
}

impl Entry {
    pub(super) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    pub(super) fn metrics(&self) -> &Metrics {
        &self.table.metrics
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.table.lock().remove(&self.id);
        self.table.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_an_idle_connection_makes_room_and_a_busy_one_does_not() {
        let table = Table::new(2, Arc::new(Metrics::new()));
        let busy_entry = table.admit().unwrap();
        let _busy = busy_entry.activity().begin();
        let idle_entry = table.admit().unwrap();
        // At the cap: the idle one is evicted to admit a third.
        let third = table.admit().unwrap();
        assert!(idle_entry.activity().evicted.load(Ordering::Acquire));
        assert!(!busy_entry.activity().evicted.load(Ordering::Acquire));
        drop(idle_entry);
        // Now the third is the only idle one; once it is marked, nothing is left to evict.
        let _third_busy = third.activity().begin();
        assert!(table.admit().is_none());
    }

    #[test]
    fn a_connection_is_idle_only_when_no_response_body_is_alive() {
        let table = Table::new(1, Arc::new(Metrics::new()));
        let entry = table.admit().unwrap();
        let activity = entry.activity().clone();
        assert!(!activity.has_served());
        let body = Tracked::new((), activity.begin());
        assert!(activity.has_served());
        assert_eq!(activity.idle_for(Instant::now()), None);
        drop(body);
        assert!(activity.idle_for(Instant::now()).is_some());
    }
}
