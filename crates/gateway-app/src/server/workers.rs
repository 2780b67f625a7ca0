//! Connection workers: one OS thread per extra core, each running a single-threaded tokio
//! runtime that serves the connections handed to it, start to end.
//!
//! Why: on a work-stealing runtime a request hops between threads (the request task, the
//! upstream connection's task, I/O readiness on whichever thread holds the driver), and each
//! hop is a futex or eventfd wake-up. Measured on 2 cores, serving each connection on one
//! thread cut those wake-ups from ~6.7 to ~3.9 per request at light load and lowered both the
//! added latency and the CPU per request (`docs/performance.md`). Connections are dealt
//! round-robin by the accept loop; shared state (limits, caches, the upstream pool) is `Sync`
//! and works across threads as before.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::mpsc;

use super::activity::Entry;
use super::connection::Connections;
use super::drain::Drain;
use crate::state::AppState;

/// Threads serving connections besides the one running the accept loop.
pub(super) struct WorkerPool {
    workers: Vec<Worker>,
}

struct Worker {
    inbox: mpsc::UnboundedSender<(std::net::TcpStream, Entry)>,
    thread: JoinHandle<bool>,
}

impl WorkerPool {
    /// Starts `count` worker threads (none when `count` is 0).
    pub(super) fn start(
        count: usize,
        connections: &Connections,
        states: &Arc<ArcSwap<AppState>>,
        grace: Duration,
    ) -> std::io::Result<WorkerPool> {
        let mut workers = Vec::with_capacity(count);
        for index in 0..count {
            let (inbox, queue) = mpsc::unbounded_channel();
            let connections = connections.clone();
            let states = states.clone();
            let thread = std::thread::Builder::new()
                .name(format!("gateway-worker-{}", index + 1))
                .spawn(move || serve_queue(queue, &connections, &states, grace))?;
            workers.push(Worker { inbox, thread });
        }
        Ok(WorkerPool { workers })
    }

    /// No extra threads: every connection is served by the accept loop's runtime.
    pub(super) fn empty() -> WorkerPool {
        WorkerPool {
            workers: Vec::new(),
        }
    }

    /// How many threads serve connections, this one included.
    pub(super) fn slots(&self) -> usize {
        self.workers.len() + 1
    }

    /// Hands a connection to worker `slot` (1-based; 0 is the caller's own runtime). A stream
    /// that cannot be handed over is returned, to be served locally.
    pub(super) fn dispatch(
        &self,
        slot: usize,
        stream: tokio::net::TcpStream,
        entry: Entry,
    ) -> Result<(), (tokio::net::TcpStream, Entry)> {
        let Some(worker) = slot.checked_sub(1).and_then(|i| self.workers.get(i)) else {
            return Err((stream, entry));
        };
        // Deregister from this runtime's reactor; the worker registers it with its own.
        let std_stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "connection could not be handed to a worker");
                return Ok(());
            }
        };
        match worker.inbox.send((std_stream, entry)) {
            Ok(()) => Ok(()),
            // The worker is gone (it panicked): serve here rather than drop the caller.
            Err(returned) => match tokio::net::TcpStream::from_std(returned.0.0) {
                Ok(stream) => Err((stream, returned.0.1)),
                Err(e) => {
                    tracing::debug!(error = %e, "a connection could not be served");
                    Ok(())
                }
            },
        }
    }

    /// Stops handing out connections and waits for every worker to drain (each within the
    /// grace period). Returns whether all of them finished in time.
    pub(super) async fn drain(self) -> bool {
        let threads: Vec<JoinHandle<bool>> = self
            .workers
            .into_iter()
            .map(|w| {
                drop(w.inbox);
                w.thread
            })
            .collect();
        tokio::task::spawn_blocking(move || {
            // Join every thread (no short-circuit), then report whether all drained.
            let drained: Vec<bool> = threads
                .into_iter()
                .map(|t| t.join().unwrap_or(false))
                .collect();
            drained.into_iter().all(|d| d)
        })
        .await
        .unwrap_or(false)
    }
}

/// A worker thread's life: serve every connection it receives, then drain.
fn serve_queue(
    mut queue: mpsc::UnboundedReceiver<(std::net::TcpStream, Entry)>,
    connections: &Connections,
    states: &Arc<ArcSwap<AppState>>,
    grace: Duration,
) -> bool {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "a connection worker could not start its runtime");
            return false;
        }
    };
    runtime.block_on(async {
        let drain = Drain::new();
        while let Some((stream, entry)) = queue.recv().await {
            match tokio::net::TcpStream::from_std(stream) {
                Ok(stream) => connections.serve(stream, entry, states.clone(), &drain),
                Err(e) => tracing::debug!(error = %e, "a handed-over connection was lost"),
            }
        }
        tokio::time::timeout(grace, drain.shutdown()).await.is_ok()
    })
}
