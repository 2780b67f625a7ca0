//! One client connection from accept to close, with every phase bounded: the TLS handshake
//! (`tls_handshake_timeout_secs`), the first request — protocol detection included, which
//! hyper's own header timeout does not cover (`header_timeout_secs`), each later HTTP/1 head and
//! keep-alive idle (hyper, `header_timeout_secs`), an HTTP/2 connection with no request in
//! flight (`idle_timeout_secs`) and HTTP/2 pings (`h2_keep_alive_*`). A connection asked to
//! close (shutdown, idle, eviction) that has not closed after a grace is dropped.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use gateway_telemetry::metrics::CloseReason;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;

use super::ClientAddr;
use super::activity::{Entry, Tracked};
use super::drain::{Drain, Watcher};
use super::linger::{Linger, LingerSwitch, Lingering};
use crate::config::ServerConfig;
use crate::state::AppState;

/// How a connection is served (TLS, protocol limits and timeouts); cloned into each worker.
#[derive(Clone)]
pub(super) struct Connections {
    pub(super) tls: Option<TlsAcceptor>,
    builder: auto::Builder<TokioExecutor>,
    timeouts: Timeouts,
    linger: Linger,
}

#[derive(Debug, Clone, Copy)]
struct Timeouts {
    tls_handshake: Duration,
    first_request: Duration,
    idle: Duration,
    /// After asking a connection to close, how long before it is dropped.
    close_grace: Duration,
}

/// Time for an idle connection asked to close to say goodbye (GOAWAY, lingering close).
const CLOSE_GRACE_EXTRA: Duration = Duration::from_secs(2);

impl Connections {
    pub(super) fn new(config: &ServerConfig, tls: Option<TlsAcceptor>) -> Connections {
        let secs = Duration::from_secs;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(secs(config.header_timeout_secs))
            .max_buf_size(config.max_header_bytes.max(8192))
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(config.max_header_bytes).unwrap_or(u32::MAX))
            .keep_alive_interval(Some(secs(config.h2_keep_alive_interval_secs)))
            .keep_alive_timeout(secs(config.h2_keep_alive_timeout_secs));
        let linger = Linger {
            timeout: secs(config.linger_timeout_secs),
            max_bytes: config.linger_max_bytes,
        };
        Connections {
            tls,
            builder,
            timeouts: Timeouts {
                tls_handshake: secs(config.tls_handshake_timeout_secs),
                first_request: secs(config.header_timeout_secs),
                idle: secs(config.idle_timeout_secs),
                close_grace: linger.timeout + CLOSE_GRACE_EXTRA,
            },
            linger,
        }
    }

    /// Serves one admitted connection on the current runtime until it closes.
    pub(super) fn serve(
        &self,
        stream: tokio::net::TcpStream,
        entry: Entry,
        states: Arc<ArcSwap<AppState>>,
        drain: &Drain,
    ) {
        let this = self.clone();
        let watcher = drain.watcher();
        tokio::spawn(async move {
            // The peer address travels with each request (audit "from where", policies).
            let peer = stream.peer_addr().ok().map(|a| ClientAddr(a.ip()));
            let Some(acceptor) = this.tls.clone() else {
                return this.run(stream, peer, entry, states, watcher).await;
            };
            match tokio::time::timeout(this.timeouts.tls_handshake, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => this.run(tls, peer, entry, states, watcher).await,
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => {
                    entry
                        .metrics()
                        .connections()
                        .closed(CloseReason::HandshakeTimeout);
                    tracing::debug!("TLS handshake timed out");
                }
            }
        });
    }

    /// HTTP over `io` (either protocol), watched by the connection's timer.
    async fn run<T>(
        &self,
        io: T,
        peer: Option<ClientAddr>,
        entry: Entry,
        states: Arc<ArcSwap<AppState>>,
        mut shutdown: Watcher,
    ) where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = entry.activity().clone();
        let requests = activity.clone();
        let service = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            let busy = requests.begin();
            if let Some(peer) = peer {
                req.extensions_mut().insert(peer);
            }
            let state = states.load_full();
            async move {
                let resp = crate::http::handle(state, req).await;
                Ok::<_, Infallible>(resp.map(|body| Tracked::new(body, busy)))
            }
        });
        let linger = LingerSwitch::default();
        let io = TokioIo::new(Lingering::new(io, self.linger, linger.clone()));
        let conn = self.builder.serve_connection(io, service);
        tokio::pin!(conn);
        let timer = tokio::time::sleep(self.timeouts.first_request.min(self.timeouts.idle));
        tokio::pin!(timer);
        let mut closing = false;
        let metrics = entry.metrics().connections();
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = shutdown.changed(), if !closing => {
                    if activity.idle_for(Instant::now()).is_some() {
                        linger.skip();
                    }
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                    timer.as_mut().reset((Instant::now() + self.timeouts.close_grace).into());
                }
                () = activity.evicted(), if !closing => {
                    if !activity.has_served() {
                        return;
                    }
                    // Evicted as the idlest connection: nothing in flight.
                    linger.skip();
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                    timer.as_mut().reset((Instant::now() + self.timeouts.close_grace).into());
                }
                () = &mut timer => {
                    let now = Instant::now();
                    let next = match activity.idle_for(now) {
                        // A request is in flight: nothing to close, look again later.
                        None => self.timeouts.idle,
                        Some(idle) if !activity.has_served() => {
                            match self.timeouts.first_request.checked_sub(idle) {
                                Some(left) if !left.is_zero() => left,
                                _ => {
                                    metrics.closed(CloseReason::FirstRequestTimeout);
                                    return;
                                }
                            }
                        }
                        Some(idle) if closing => match self.timeouts.close_grace.checked_sub(idle) {
                            Some(left) if !left.is_zero() => left,
                            _ => return,
                        },
                        Some(idle) => match self.timeouts.idle.checked_sub(idle) {
                            Some(left) if !left.is_zero() => left,
                            _ => {
                                metrics.closed(CloseReason::IdleTimeout);
                                linger.skip();
                                conn.as_mut().graceful_shutdown();
                                closing = true;
                                self.timeouts.close_grace
                            }
                        },
                    };
                    timer.as_mut().reset((now + next).into());
                }
            }
        }
    }
}
