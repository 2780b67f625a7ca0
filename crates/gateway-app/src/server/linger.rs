//! Lingering close. When the gateway ends a connection after an early answer (413 for an
//! oversized body, 401 before the body is read), the client may still be sending: closing a
//! socket with unread data makes the kernel send a reset, and a client that writes its whole
//! body before reading (Python's `http.client`, so `urllib` and `requests`) then gets a broken
//! pipe instead of the answer. So the close is done as nginx does it: send the answer and a
//! FIN, then read and discard what still arrives, until the client closes or a time and a byte
//! bound run out, and only then close the socket.
//!
//! A close the server starts on a connection with no request in flight (graceful stop, idle
//! timeout, eviction) has no body in transit to protect, and a pooled keep-alive client does
//! not read its idle socket: such a close skips the drain ([`LingerSwitch::skip`]), so that a
//! stop never waits out the linger timeout on idle connections.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// How long and how much a closing connection keeps reading (`server.linger_*`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Linger {
    pub timeout: Duration,
    pub max_bytes: u64,
}

/// Discarded per read; on the stack of the closing poll only.
const DISCARD_CHUNK: usize = 8 * 1024;
/// Reads per poll before yielding, so a fast sender cannot hold a worker thread.
const READS_PER_POLL: usize = 32;

/// Turns the lingering of one connection's close off; held by the connection's task, which
/// knows whether a request is in flight when it asks the connection to close.
#[derive(Clone, Default)]
pub(super) struct LingerSwitch(Arc<AtomicBool>);

impl LingerSwitch {
    /// The next close sends its FIN and ends without draining.
    pub(super) fn skip(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn skipped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A connection's transport whose `poll_shutdown` closes lingeringly. Reads and writes pass
/// through untouched.
pub(super) struct Lingering<T> {
    inner: T,
    linger: Linger,
    switch: LingerSwitch,
    closing: Closing,
}

enum Closing {
    Open,
    Draining {
        deadline: Pin<Box<Sleep>>,
        left: u64,
    },
    Done,
}

impl<T> Lingering<T> {
    pub(super) fn new(inner: T, linger: Linger, switch: LingerSwitch) -> Self {
        Lingering {
            inner,
            linger,
            switch,
            closing: Closing::Open,
        }
    }
}

impl<T: AsyncRead + Unpin> Lingering<T> {
    /// Reads and discards until the peer closes, an error, or a bound; `Ready` when done.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Closing::Draining { deadline, left } = &mut self.closing else {
            return Poll::Ready(());
        };
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        let mut chunk = [0u8; DISCARD_CHUNK];
        for _ in 0..READS_PER_POLL {
            let mut buf = ReadBuf::new(&mut chunk);
            match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len() as u64;
                    if n == 0 || n >= *left {
                        return Poll::Ready(());
                    }
                    *left -= n;
                }
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Lingering<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    /// Sends what is buffered and a FIN, then drains the peer within the bounds.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Closing::Open = this.closing {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            let off = this.linger.timeout.is_zero() || this.linger.max_bytes == 0;
            this.closing = if off || this.switch.skipped() {
                Closing::Done
            } else {
                Closing::Draining {
                    deadline: Box::pin(tokio::time::sleep(this.linger.timeout)),
                    left: this.linger.max_bytes,
                }
            };
        }
        ready!(this.poll_drain(cx));
        this.closing = Closing::Done;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn linger(secs: u64, max_bytes: u64) -> Linger {
        Linger {
            timeout: Duration::from_secs(secs),
            max_bytes,
        }
    }

    #[tokio::test]
    async fn shutdown_sends_eof_then_waits_for_the_peer_to_finish_sending() {
        let (ours, mut peer) = tokio::io::duplex(64);
        let mut ours = Lingering::new(ours, linger(30, 1 << 20), LingerSwitch::default());
        ours.write_all(b"answer").await.unwrap();
        let shutdown = tokio::spawn(async move { ours.shutdown().await });
        // The peer reads the answer and EOF while it is still sending: the writes succeed.
        let mut answer = Vec::new();
        peer.write_all(&[7u8; 4096]).await.unwrap();
        let (mut read, mut write) = tokio::io::split(peer);
        read.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"answer");
        write.write_all(&[7u8; 4096]).await.unwrap();
        assert!(!shutdown.is_finished());
        drop(write);
        drop(read);
        shutdown.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_peer_that_never_closes_is_let_go_after_the_timeout() {
        let (ours, _peer) = tokio::io::duplex(64);
        let mut ours = Lingering::new(ours, linger(1, 1 << 20), LingerSwitch::default());
        tokio::time::timeout(Duration::from_secs(20), ours.shutdown())
            .await
            .expect("the time bound ends the drain")
            .unwrap();
    }

    #[tokio::test]
    async fn draining_stops_after_the_byte_bound() {
        let (ours, mut peer) = tokio::io::duplex(1 << 16);
        let mut ours = Lingering::new(ours, linger(30, 10_000), LingerSwitch::default());
        // More than the bound, and the peer stays open: only the byte bound ends the drain.
        peer.write_all(&[1u8; 20_000]).await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), ours.shutdown())
            .await
            .expect("the byte bound ends the drain")
            .unwrap();
    }

    #[tokio::test]
    async fn a_skipped_linger_closes_without_waiting_for_the_peer() {
        let (ours, _peer) = tokio::io::duplex(64);
        let switch = LingerSwitch::default();
        let mut ours = Lingering::new(ours, linger(3600, 1 << 20), switch.clone());
        switch.skip();
        // The peer never closes: only the switch can end the close before the hour is out.
        tokio::time::timeout(Duration::from_secs(20), ours.shutdown())
            .await
            .expect("a skipped linger does not drain")
            .unwrap();
    }
}
