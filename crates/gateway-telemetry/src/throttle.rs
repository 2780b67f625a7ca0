//! At most one log line a second for a repeating error (a full buffer under a flood), with
//! the count of the ones held back. The metric counts every occurrence regardless.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct Throttle {
    /// Milliseconds since [`base`] of the last line, plus one (0: never).
    last: AtomicU64,
    suppressed: AtomicU64,
}

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

impl Throttle {
    /// `Some(held back since the last line)` when a line is due now, else `None`.
    pub(crate) fn allow(&self) -> Option<u64> {
        let now = u64::try_from(base().elapsed().as_millis()).unwrap_or(u64::MAX) + 1;
        let last = self.last.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= EVERY.as_millis() as u64;
        if due
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_passes_then_holds_back() {
        let t = Throttle::default();
        assert_eq!(t.allow(), Some(0));
        assert_eq!(t.allow(), None);
        assert_eq!(t.allow(), None);
        assert_eq!(t.suppressed.load(Ordering::Relaxed), 2);
    }
}
