//! How long a store poller (asynchronous calls, batch lines, webhook deliveries) waits before
//! looking again. Work queued on this instance wakes its poller at once; the poll is only for
//! work that another instance queued or left behind (an expired lease, a retry that fell due
//! elsewhere). An idle gateway therefore need not query its store every `poll_interval`: each
//! empty look doubles the wait, up to [`IDLE_FACTOR`] times the interval, and any work found or
//! woken brings it back to the interval. Measured with `xtask/bench/callgrind_idle.py`, the
//! three pollers were the whole of an idle gateway's work (docs/performance.md).

use std::time::Duration;

/// The longest idle wait, in poll intervals (16 s with the default `poll_interval = "1s"`).
pub const IDLE_FACTOR: u32 = 16;

/// The wait of one poller.
#[derive(Debug, Clone)]
pub struct IdleBackoff {
    interval: Duration,
    next: Duration,
}

impl IdleBackoff {
    pub fn new(interval: Duration) -> Self {
        IdleBackoff {
            interval,
            next: interval,
        }
    }

    /// Work was found or announced: look again after one interval at most.
    pub fn reset(&mut self) {
        self.next = self.interval;
    }

    /// Nothing was found: the wait before the next look, which then doubles (bounded).
    pub fn idle(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.interval * IDLE_FACTOR);
        wait
    }

    /// The wait [`IdleBackoff::idle`] would give next, without advancing it.
    pub fn current(&self) -> Duration {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_waits_double_to_the_cap_and_reset_on_work() {
        let mut b = IdleBackoff::new(Duration::from_secs(1));
        let waits: Vec<u64> = (0..7).map(|_| b.idle().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 16, 16]);
        b.reset();
        assert_eq!(b.current(), Duration::from_secs(1));
        assert_eq!(b.idle(), Duration::from_secs(1));
        assert_eq!(b.current(), Duration::from_secs(2));
    }

    #[test]
    fn a_sub_second_interval_caps_at_its_own_multiple() {
        let mut b = IdleBackoff::new(Duration::from_millis(20));
        for _ in 0..20 {
            b.idle();
        }
        assert_eq!(b.current(), Duration::from_millis(320));
    }
}
