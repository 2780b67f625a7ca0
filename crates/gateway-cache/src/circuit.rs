//! [`Circuit`]: fail fast while Redis is down. After a failed or timed-out command the circuit
//! opens for the retry interval; meanwhile every call is skipped at once (a miss, a skipped
//! store) except one probe per interval, whose success closes it again. The limiter's Redis
//! backend works the same way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Circuit {
    /// Origin of the nanosecond clock below (tokio's, so tests can pause time).
    base: Instant,
    retry: Duration,
    /// Nanos since `base` before which Redis is presumed down; 0 while it is up.
    down_until: AtomicU64,
}

impl Circuit {
    pub fn new(retry: Duration) -> Self {
        Circuit {
            base: Instant::now(),
            retry,
            down_until: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn reopen_at(&self) -> u64 {
        self.now()
            .saturating_add(u64::try_from(self.retry.as_nanos()).unwrap_or(u64::MAX))
            .max(1)
    }

    /// Whether a call may go to Redis now: always while up; while down, once per interval
    /// (whoever moves the deadline probes, the others are skipped).
    pub fn allow(&self) -> bool {
        let until = self.down_until.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        if self.now() < until {
            return false;
        }
        self.down_until
            .compare_exchange(until, self.reopen_at(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The outcome of a call that went to Redis.
    pub fn record(&self, ok: bool) {
        let v = if ok { 0 } else { self.reopen_at() };
        self.down_until.store(v, Ordering::Release);
    }

    /// Whether the last call to Redis failed (and no probe has succeeded since).
    pub fn is_down(&self) -> bool {
        self.down_until.load(Ordering::Acquire) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_on_failure_and_lets_one_probe_through_per_interval() {
        let c = Circuit::new(Duration::from_secs(1));
        assert!(c.allow() && !c.is_down());
        c.record(false);
        assert!(c.is_down());
        assert!(!c.allow(), "skipped while open");
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert!(c.allow(), "one probe after the interval");
        assert!(!c.allow(), "only one");
        c.record(true);
        assert!(c.allow() && !c.is_down());
    }
}
