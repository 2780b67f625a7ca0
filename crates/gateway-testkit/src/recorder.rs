//! What a mock keeps of the requests it saw: the last [`RECORD_LIMIT`] (a ring, so a mock
//! under load — the `--demo` provider, a soak run — holds bounded memory) and how many
//! arrived in all.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Requests a mock keeps by default: far more than a test sends, few enough to stay small.
pub const RECORD_LIMIT: usize = 1024;

/// The last `limit` items pushed, oldest first, and the count of every push.
#[derive(Debug)]
pub struct Recorder<T> {
    kept: Mutex<VecDeque<T>>,
    limit: usize,
    seen: AtomicU64,
}

impl<T: Clone> Recorder<T> {
    /// Keeps at most `limit` items (0 keeps none but still counts).
    pub fn new(limit: usize) -> Self {
        Self {
            kept: Mutex::new(VecDeque::new()),
            limit,
            seen: AtomicU64::new(0),
        }
    }

    fn kept(&self) -> MutexGuard<'_, VecDeque<T>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records `item`, forgetting the oldest past the limit.
    pub fn push(&self, item: T) {
        self.seen.fetch_add(1, Ordering::Relaxed);
        if self.limit == 0 {
            return;
        }
        let mut kept = self.kept();
        if kept.len() == self.limit {
            kept.pop_front();
        }
        kept.push_back(item);
    }

    /// The items kept, oldest first.
    pub fn snapshot(&self) -> Vec<T> {
        self.kept().iter().cloned().collect()
    }

    /// Forgets the items kept (the count goes on).
    pub fn clear(&self) {
        self.kept().clear();
    }

    /// Every push so far, kept or not.
    pub fn seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_items_and_counts_all() {
        let recorder = Recorder::new(3);
        for i in 0..10 {
            recorder.push(i);
        }
        assert_eq!(recorder.snapshot(), vec![7, 8, 9]);
        assert_eq!(recorder.seen(), 10);
        recorder.clear();
        assert!(recorder.snapshot().is_empty());
        assert_eq!(recorder.seen(), 10);
        let none = Recorder::new(0);
        none.push(1);
        assert!(none.snapshot().is_empty());
        assert_eq!(none.seen(), 1);
    }
}
