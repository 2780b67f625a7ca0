//! Series the listener keeps about client connections: how many are open, how many were
//! refused at `server.max_connections`, closed by one of the connection timeouts or evicted
//! to make room, and how many accepts failed (descriptor exhaustion and friends).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::labels::ReasonLabel;

/// Why the gateway closed a connection before its client did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The TLS handshake did not finish within `server.tls_handshake_timeout_secs`.
    HandshakeTimeout,
    /// No request arrived within `server.header_timeout_secs` of the connection's start.
    FirstRequestTimeout,
    /// No request in flight for `server.idle_timeout_secs` (HTTP/2).
    IdleTimeout,
    /// Closed while idle to admit a new connection at `server.max_connections`.
    Evicted,
}

impl CloseReason {
    fn label(self) -> &'static str {
        match self {
            CloseReason::HandshakeTimeout => "handshake_timeout",
            CloseReason::FirstRequestTimeout => "first_request_timeout",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::Evicted => "evicted",
        }
    }
}

#[derive(Debug, Default)]
pub struct ConnectionMetrics {
    open: Gauge,
    refused: Counter,
    closed: Family<ReasonLabel, Counter>,
    accept_errors: Counter,
}

impl ConnectionMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "gateway_connections_open",
            "Client connections open now",
            self.open.clone(),
        );
        r.register(
            "gateway_connections_refused",
            "Client connections closed at accept because server.max_connections were open and none was idle",
            self.refused.clone(),
        );
        r.register(
            "gateway_connections_closed",
            "Client connections the gateway closed, by reason (a timeout, or evicted while idle to make room)",
            self.closed.clone(),
        );
        r.register(
            "gateway_connections_accept_errors",
            "Failed accepts (e.g. out of file descriptors); the listener backs off after each",
            self.accept_errors.clone(),
        );
    }

    /// One more connection open until the guard drops.
    pub fn open(&self) -> OpenConnection {
        self.open.inc();
        OpenConnection(self.open.clone())
    }

    pub fn refused(&self) {
        self.refused.inc();
    }

    pub fn closed(&self, reason: CloseReason) {
        self.closed
            .get_or_create(&ReasonLabel {
                reason: reason.label(),
            })
            .inc();
    }

    pub fn accept_error(&self) {
        self.accept_errors.inc();
    }
}

/// An open connection in `gateway_connections_open`; dropping it closes the count.
#[derive(Debug)]
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}
