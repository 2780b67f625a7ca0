//! Graceful shutdown of the connections one runtime serves: a signal every connection watches,
//! and a wait until every watcher is gone.

use tokio::sync::watch;

pub(super) struct Drain {
    signal: watch::Sender<()>,
}

/// Held by a connection's task for its whole life; `changed()` resolves on shutdown.
pub(super) type Watcher = watch::Receiver<()>;

impl Drain {
    pub(super) fn new() -> Drain {
        Drain {
            signal: watch::channel(()).0,
        }
    }

    pub(super) fn watcher(&self) -> Watcher {
        self.signal.subscribe()
    }

    /// Asks every connection to finish (no new requests; idle ones close) and waits until
    /// all have ended.
    pub(super) async fn shutdown(self) {
        self.signal.send_replace(());
        self.signal.closed().await;
    }
}
