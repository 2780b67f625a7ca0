//! Waiting in tests for what happens in the background (a cache fill, a batch written, a
//! refresh made) by polling a condition until a deadline, instead of sleeping a fixed time
//! that is too long on a quiet machine and too short on a busy one.
//!
//! Under `tokio::time::pause` the polls advance the paused clock, so a deadline there is in
//! virtual time.

use std::future::Future;
use std::time::Duration;

/// How often the condition is checked.
const POLL: Duration = Duration::from_millis(5);

/// Whether `condition` held within `timeout`, checked at once and then every few
/// milliseconds. Use as `assert!(eventually(Duration::from_secs(5), || ...).await, "...")`.
pub async fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    eventually_async(timeout, || std::future::ready(condition())).await
}

/// [`eventually`] with a condition that must await (a store query, an HTTP call).
pub async fn eventually_async<F, Fut>(timeout: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn holds_once_the_background_work_is_done() {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            flag.store(true, Ordering::SeqCst);
        });
        assert!(eventually(Duration::from_secs(5), || done.load(Ordering::SeqCst)).await);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_deadline() {
        let start = tokio::time::Instant::now();
        assert!(!eventually(Duration::from_secs(2), || false).await);
        assert!(start.elapsed() >= Duration::from_secs(2));
    }

    #[tokio::test]
    async fn an_async_condition_is_awaited() {
        let mut calls = 0;
        let held = eventually_async(Duration::from_secs(5), || {
            calls += 1;
            let now = calls;
            async move { now >= 3 }
        })
        .await;
        assert!(held);
        assert_eq!(calls, 3);
    }
}
