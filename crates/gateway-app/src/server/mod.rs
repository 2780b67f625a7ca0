//! The listener: accept loop, optional TLS, HTTP/1.1 and HTTP/2 with limits and timeouts, and
//! graceful shutdown (stop accepting, let in-flight requests and streams finish up to a
//! deadline, then return).

mod accept;
mod activity;
mod connection;
mod descriptors;
mod drain;
mod linger;
pub(crate) mod tls;
mod workers;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::error::AppError;
use crate::state::AppState;
use connection::Connections;

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
    /// Client connections open at once, at most (`server.max_connections`, clamped).
    max_connections: usize,
}

impl Server {
    /// Bind `config.listen` (port 0 picks a free port) and prepare TLS if configured.
    pub async fn bind(config: &ServerConfig) -> Result<Server, AppError> {
        let tls = config.tls.as_ref().map(load_tls).transpose()?;
        let listener = TcpListener::bind(config.listen).await?;
        let limit = descriptors::descriptor_limit();
        let max_connections = descriptors::max_connections(
            config.max_connections,
            config.reserved_descriptors,
            limit,
        );
        if config.max_connections > max_connections {
            tracing::warn!(
                configured = config.max_connections,
                max_connections,
                descriptor_limit = limit,
                reserved = config.reserved_descriptors,
                "server.max_connections lowered to fit the descriptor limit"
            );
        }
        tracing::debug!(
            max_connections,
            descriptor_limit = limit,
            "connection limit"
        );
        Ok(Server {
            listener,
            connections: Connections::new(config, tls),
            workers: config.worker_threads(),
            grace: Duration::from_secs(config.shutdown_grace_secs),
            max_connections,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub fn is_tls(&self) -> bool {
        self.connections.tls.is_some()
    }

    /// The connection cap in force (after clamping to the descriptor limit).
    pub fn max_connections(&self) -> usize {
        self.max_connections
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
        let metrics = states.load().telemetry.metrics().clone();
        let table = activity::Table::new(self.max_connections, metrics);
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
        let drain = drain::Drain::new();
        accept::accept_loop(&self.listener, &table, shutdown, |stream, entry, slot| {
            // Round-robin over the threads; slot 0 is this runtime.
            if let Err((stream, entry)) = pool.dispatch(slot % pool.slots(), stream, entry) {
                self.connections
                    .serve(stream, entry, states.clone(), &drain);
            }
        })
        .await;
        drop(self.listener);
        tracing::info!(
            grace_secs = self.grace.as_secs(),
            "shutting down: draining in-flight requests"
        );
        let (local, workers) = tokio::join!(
            tokio::time::timeout(self.grace, drain.shutdown()),
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
