//! The listener: accept loop, optional TLS, HTTP/1.1 and HTTP/2 with limits and timeouts, and
//! graceful shutdown (stop accepting, let in-flight requests and streams finish up to a
//! deadline, then return).

pub(crate) mod tls;
mod workers;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::config::ServerConfig;
use crate::error::AppError;
use crate::state::AppState;
use arc_swap::ArcSwap;

pub use tls::load_tls;

/// The address of the peer a request came from, in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The caller's address, when the request came through [`Server`].
pub fn client_ip<B>(req: &hyper::Request<B>) -> Option<std::net::IpAddr> {
    req.extensions().get::<ClientAddr>().map(|c| c.0)
}

/// A bound listener, ready to serve.
pub struct Server {
    listener: TcpListener,
    connections: Connections,
    /// Threads serving connections, the accept loop's own included (`server.workers`).
    workers: usize,
    grace: Duration,
}

/// How a connection is served (TLS, protocol limits and timeouts); cloned into each worker.
#[derive(Clone)]
struct Connections {
    tls: Option<TlsAcceptor>,
    builder: auto::Builder<TokioExecutor>,
    handshake_timeout: Duration,
}

impl Server {
    /// Bind `config.listen` (port 0 picks a free port) and prepare TLS if configured.
    pub async fn bind(config: &ServerConfig) -> Result<Server, AppError> {
        let tls = config.tls.as_ref().map(load_tls).transpose()?;
        let listener = TcpListener::bind(config.listen).await?;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(config.header_timeout_secs))
            .max_buf_size(config.max_header_bytes.max(8192))
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(config.max_header_bytes as u32)
            .keep_alive_interval(Some(Duration::from_secs(30)));
        Ok(Server {
            listener,
            connections: Connections {
                tls,
                builder,
                handshake_timeout: Duration::from_secs(config.header_timeout_secs),
            },
            workers: config.worker_threads(),
            grace: Duration::from_secs(config.shutdown_grace_secs),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub fn is_tls(&self) -> bool {
        self.connections.tls.is_some()
    }

    /// Serve until `shutdown` resolves, then drain. Returns whether the drain finished in time.
    pub async fn run(self, state: Arc<AppState>, shutdown: impl Future<Output = ()>) -> bool {
        self.run_swappable(Arc::new(ArcSwap::new(state)), shutdown)
            .await
    }

    /// Like [`Server::run`], with a state that may be replaced while serving (configuration
    /// reload): each request uses the state current when it arrives; requests in flight finish
    /// on the one they started with.
    pub async fn run_swappable(
        self,
        states: Arc<ArcSwap<AppState>>,
        shutdown: impl Future<Output = ()>,
    ) -> bool {
        let graceful = GracefulShutdown::new();
        let pool = match workers::WorkerPool::start(
            self.workers.saturating_sub(1),
            &self.connections,
            &states,
            self.grace,
        ) {
            Ok(pool) => pool,
            Err(e) => {
                tracing::error!(error = %e, "connection workers could not start; serving on one thread");
                workers::WorkerPool::empty()
            }
        };
        let mut next_slot = 0usize;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => {
                    let (stream, _) = match accepted {
                        Ok(conn) => conn,
                        Err(e) => {
                            // EMFILE and friends: back off briefly instead of spinning.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    // Round-robin over the threads; slot 0 is this runtime.
                    let slot = next_slot % pool.slots();
                    next_slot = next_slot.wrapping_add(1);
                    if let Err(stream) = pool.dispatch(slot, stream) {
                        self.connections.serve(stream, states.clone(), &graceful);
                    }
                }
            }
        }
        drop(self.listener);
        tracing::info!(
            grace_secs = self.grace.as_secs(),
            "shutting down: draining in-flight requests"
        );
        let (local, workers) = tokio::join!(
            tokio::time::timeout(self.grace, graceful.shutdown()),
            pool.drain()
        );
        if local.is_ok() && workers {
            true
        } else {
            tracing::warn!("shutdown deadline reached with requests still in flight");
            false
        }
    }
}

impl Connections {
    /// Serves one connection on the current runtime until it closes.
    fn serve(
        &self,
        stream: tokio::net::TcpStream,
        states: Arc<ArcSwap<AppState>>,
        graceful: &GracefulShutdown,
    ) {
        // The peer address travels with each request (audit "from where", policies).
        let peer = stream.peer_addr().ok().map(|a| ClientAddr(a.ip()));
        let service = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            if let Some(peer) = peer {
                req.extensions_mut().insert(peer);
            }
            let state = states.load_full();
            async move { Ok::<_, Infallible>(crate::http::handle(state, req).await) }
        });
        let builder = self.builder.clone();
        match &self.tls {
            None => {
                let conn = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let timeout = self.handshake_timeout;
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => return tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => return tracing::debug!("TLS handshake timed out"),
                    };
                    let conn = builder
                        .serve_connection(TokioIo::new(tls), service)
                        .into_owned();
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
