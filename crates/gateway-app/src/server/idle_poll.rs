//! Idle polling (`server.idle_poll_us`): a connection thread that runs out of work keeps
//! checking its event loop for a short window before it goes to sleep.
//!
//! Why: a proxied call makes the thread sleep twice, waiting for the request and waiting for
//! the upstream's answer, and on a virtual machine every sleep hands the vCPU back to the
//! hypervisor: waking it again (an interrupt, a VM entry, caches others have used) costs tens
//! of microseconds. Polling through a short wait saves that wake-up at the price of the
//! window's CPU time, the trade HAProxy's `busy-polling` and Seastar's `--idle-poll-time-us`
//! offer. Off by default; measured in `docs/performance.md`.
//!
//! How: tokio calls `on_thread_park` when a runtime has nothing left to run. Inside the
//! window the hook wakes a task kept for the purpose, so the runtime checks for I/O without
//! blocking (`epoll_wait` with a zero timeout) and comes back to the hook; past the window it
//! lets the thread sleep. The window opens at the first idle moment after the thread woke
//! from sleep or took a request ([`note_request`]), so a steady trickle of calls keeps it
//! polling and a quiet thread stops within one window.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};

/// The longest window `server.idle_poll_us` accepts: beyond it a thread burns its core for
/// waits that a wake-up costs little against.
pub const MAX_IDLE_POLL: Duration = Duration::from_millis(10);

thread_local! {
    static IDLE: IdleState = const {
        IdleState {
            opened: Cell::new(None),
            sleeping: Cell::new(false),
            poller: RefCell::new(None),
        }
    };
}

/// One runtime's polling state (one runtime per thread: the runtimes are single-threaded).
struct IdleState {
    /// When the current window opened; `None` until the thread next runs out of work.
    opened: Cell<Option<Instant>>,
    /// The hook let the thread sleep: the next unpark ends the window.
    sleeping: Cell<bool>,
    /// Wakes the task that exists to be woken (see [`poller`]).
    poller: RefCell<Option<Waker>>,
}

/// A single-threaded runtime for serving connections: with idle polling for `window` when it
/// is not zero.
pub fn connection_runtime(window: Duration) -> std::io::Result<Runtime> {
    let mut builder = Builder::new_current_thread();
    builder.enable_all();
    if window.is_zero() {
        return builder.build();
    }
    let runtime = builder
        .on_thread_park(move || before_park(window))
        .on_thread_unpark(after_unpark)
        .build()?;
    runtime.spawn(poller());
    Ok(runtime)
}

/// A request arrived on this thread: the next idle moment opens a new window.
pub fn note_request() {
    IDLE.with(|s| s.opened.set(None));
}

/// Whether a window opened at `opened` still runs at `now`.
fn within(opened: Instant, now: Instant, window: Duration) -> bool {
    now.saturating_duration_since(opened) < window
}

fn before_park(window: Duration) {
    IDLE.with(|s| {
        let now = Instant::now();
        let opened = *s.opened.get().get_or_insert(now);
        s.opened.set(Some(opened));
        if within(opened, now, window)
            && let Some(poller) = s.poller.borrow().as_ref()
        {
            // Give the core to whatever else is queued on it (the upstream, maybe) first;
            // with nothing queued this returns at once.
            std::thread::yield_now();
            // Pending work: tokio polls its driver with a zero timeout instead of parking.
            poller.wake_by_ref();
            return;
        }
        s.sleeping.set(true);
    });
}

fn after_unpark() {
    IDLE.with(|s| {
        if s.sleeping.replace(false) {
            s.opened.set(None);
        }
    });
}

/// The task the park hook wakes to keep the runtime polling: it only ever records its waker.
async fn poller() {
    poll_fn(|cx| {
        IDLE.with(|s| {
            let mut slot = s.poller.borrow_mut();
            if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
        });
        Poll::<()>::Pending
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real sleeps of the runtime's thread so far (spins are not counted as parks).
    fn parks(runtime: &Runtime) -> u64 {
        runtime.handle().metrics().worker_park_count(0)
    }

    /// Waits `wait` for an answer that another thread sends, on a runtime polling for
    /// `window`; returns how many times the thread slept meanwhile.
    fn sleeps_during_wait(window: Duration, wait: Duration) -> u64 {
        let runtime = connection_runtime(window).expect("runtime");
        let before = parks(&runtime);
        runtime.block_on(async {
            note_request();
            let (tx, rx) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                std::thread::sleep(wait);
                let _ = tx.send(());
            });
            rx.await.expect("answer");
        });
        parks(&runtime) - before
    }

    #[test]
    fn a_wait_inside_the_window_is_polled_through() {
        let slept = sleeps_during_wait(Duration::from_millis(100), Duration::from_millis(5));
        assert_eq!(
            slept, 0,
            "the thread slept during a wait shorter than the window"
        );
    }

    #[test]
    fn without_a_window_the_thread_sleeps_through_a_wait() {
        let slept = sleeps_during_wait(Duration::ZERO, Duration::from_millis(5));
        assert!(
            slept >= 1,
            "no sleep while waiting: the comparison above proves nothing"
        );
    }

    #[test]
    fn past_the_window_the_thread_sleeps() {
        let runtime = connection_runtime(Duration::from_millis(2)).expect("runtime");
        let before = parks(&runtime);
        let started = std::time::Instant::now();
        runtime.block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert!(
            parks(&runtime) > before,
            "the thread polled for 100 ms with a 2 ms window"
        );
    }

    #[test]
    fn a_window_lasts_from_its_opening() {
        let opened = Instant::now();
        let window = Duration::from_micros(200);
        assert!(within(opened, opened, window));
        assert!(within(opened, opened + Duration::from_micros(199), window));
        assert!(!within(opened, opened + window, window));
        // A clock read before the opening (another core's) counts as inside.
        assert!(within(opened + window, opened, window));
    }
}
