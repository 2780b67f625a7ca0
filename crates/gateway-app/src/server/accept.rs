//! The accept loop: admit each connection against the cap (refused ones are closed at once),
//! and on accept errors — out of descriptors above all — back off instead of spinning, free an
//! idle connection's descriptor, and log at most one line every ten seconds.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use super::activity::{Entry, Table};

/// The first pause after a failed accept; it doubles while accepts keep failing.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);
/// At most one log line about failed accepts this often.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Accepts until `shutdown` resolves; `dispatch` gets each admitted connection and a running
/// count (for round-robin).
pub(super) async fn accept_loop(
    listener: &TcpListener,
    table: &Arc<Table>,
    shutdown: impl Future<Output = ()>,
    mut dispatch: impl FnMut(TcpStream, Entry, usize),
) {
    let mut backoff = Backoff::default();
    let mut accepted = 0usize;
    tokio::pin!(shutdown);
    loop {
        let result = tokio::select! {
            () = &mut shutdown => return,
            result = listener.accept() => result,
        };
        match result {
            Ok((stream, _)) => {
                backoff.succeeded();
                // At the cap with nothing idle to evict: closed at once, counted in the table.
                let Some(entry) = table.admit() else {
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                dispatch(stream, entry, accepted);
                accepted = accepted.wrapping_add(1);
            }
            Err(e) => {
                table.metrics().connections().accept_error();
                if out_of_descriptors(&e) {
                    // Free a descriptor for the next caller if an idle connection holds one.
                    table.evict_idlest();
                }
                let pause = backoff.failed(&e, Instant::now());
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}

fn out_of_descriptors(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        let code = e.raw_os_error();
        code == Some(Errno::MFILE.raw_os_error()) || code == Some(Errno::NFILE.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Pauses after failed accepts and keeps the log to one line per [`LOG_EVERY`], however
/// many accepts fail (each is counted in `gateway_connections_accept_errors_total`).
#[derive(Debug, Default)]
struct Backoff {
    /// Consecutive failed accepts.
    consecutive: u64,
    pause: Duration,
    last_line: Option<Instant>,
    /// Failures since the last line.
    unlogged: u64,
}

impl Backoff {
    /// Records a failure at `now`; returns how long to pause.
    fn failed(&mut self, e: &std::io::Error, now: Instant) -> Duration {
        self.unlogged += 1;
        if self
            .last_line
            .is_none_or(|at| now.duration_since(at) >= LOG_EVERY)
        {
            tracing::warn!(error = %e, failures = self.unlogged, "accept failed; backing off");
            self.last_line = Some(now);
            self.unlogged = 0;
        }
        self.pause = match self.consecutive {
            0 => FIRST_PAUSE,
            _ => (self.pause * 2).min(LONGEST_PAUSE),
        };
        self.consecutive += 1;
        self.pause
    }

    fn succeeded(&mut self) {
        self.consecutive = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_a_second_and_resets_after_a_success() {
        let e = std::io::Error::other("EMFILE");
        let now = Instant::now();
        let mut b = Backoff::default();
        let pauses: Vec<Duration> = (0..10).map(|_| b.failed(&e, now)).collect();
        assert_eq!(pauses[0], FIRST_PAUSE);
        assert_eq!(pauses[1], FIRST_PAUSE * 2);
        assert_eq!(pauses[9], LONGEST_PAUSE);
        b.succeeded();
        assert_eq!(b.failed(&e, now), FIRST_PAUSE);
    }

    #[test]
    fn a_burst_of_failures_logs_one_line_per_interval_with_the_count() {
        let e = std::io::Error::other("EMFILE");
        let start = Instant::now();
        let mut b = Backoff::default();
        b.failed(&e, start);
        assert_eq!((b.last_line, b.unlogged), (Some(start), 0));
        for _ in 0..1000 {
            b.failed(&e, start + Duration::from_secs(1));
            b.succeeded();
        }
        // Held back, counted for the next line.
        assert_eq!((b.last_line, b.unlogged), (Some(start), 1000));
        b.failed(&e, start + LOG_EVERY);
        assert_eq!((b.last_line, b.unlogged), (Some(start + LOG_EVERY), 0));
    }

    #[cfg(unix)]
    #[test]
    fn descriptor_exhaustion_is_recognised() {
        let emfile = std::io::Error::from_raw_os_error(rustix::io::Errno::MFILE.raw_os_error());
        assert!(out_of_descriptors(&emfile));
        assert!(!out_of_descriptors(&std::io::Error::other("x")));
    }
}
