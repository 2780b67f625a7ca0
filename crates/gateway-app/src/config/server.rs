//! `[server]`: the listener, its limits and the timeouts that bound every phase of a client
//! connection's life (see `docs/security.md`, "Connections").

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// Listener, limits and timeouts. Changing these needs a restart.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Largest accepted request body; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Largest accepted request head (request line + headers); larger get 431.
    pub max_header_bytes: usize,
    /// Time allowed for the first request head of a connection (counted from accept, the TLS
    /// handshake and protocol detection included) and for each later HTTP/1 request head,
    /// the idle time of a kept-alive HTTP/1 connection included.
    pub header_timeout_secs: u64,
    /// Time allowed to receive the request body (408 beyond).
    pub body_timeout_secs: u64,
    /// Longest non-streamed request, end to end; streams are bounded by the upstream's idle timeout.
    pub request_timeout_secs: u64,
    /// On SIGTERM/SIGINT, how long in-flight requests and streams may run on.
    pub shutdown_grace_secs: u64,
    pub tls: Option<TlsConfig>,
    /// Where the gateway keeps its state (the embedded SQLite database).
    pub data_dir: PathBuf,
    /// Threads serving connections, each on its own single-threaded runtime (0: one per
    /// CPU core). 1 serves every connection on the runtime that runs the server.
    pub workers: usize,
    /// Time allowed for a TLS handshake.
    pub tls_handshake_timeout_secs: u64,
    /// An HTTP/2 connection with no request in flight is closed after this long.
    pub idle_timeout_secs: u64,
    /// How often an HTTP/2 connection is pinged.
    pub h2_keep_alive_interval_secs: u64,
    /// An HTTP/2 connection whose ping is not acknowledged within this is closed.
    pub h2_keep_alive_timeout_secs: u64,
    /// Most client connections open at once (0: derived from the descriptor limit, see
    /// [`ServerConfig::reserved_descriptors`]). At the limit an idle connection is closed to
    /// admit a new one; with none idle the new one is closed at once.
    pub max_connections: usize,
    /// File descriptors kept out of `max_connections` for everything else (upstream,
    /// database and Redis connections, files); `max_connections` is clamped so that the
    /// process descriptor limit keeps this many free.
    pub reserved_descriptors: usize,
    /// After an answer that ends a connection while the client may still be sending (413,
    /// 401 before the body is read), how long the rest is read and discarded before closing.
    pub linger_timeout_secs: u64,
    /// At most this many bytes are discarded that way.
    pub linger_max_bytes: u64,
    /// Proxies (CIDR blocks or addresses) whose `X-Forwarded-For` / `Forwarded` headers are
    /// believed: the client address of a request from one of them is the rightmost address
    /// of those headers that is not itself a trusted proxy. From any other peer the headers
    /// are ignored and the client address is the TCP peer's.
    pub trusted_proxies: Vec<String>,
    /// The header trusted proxies write the client address into: `x-forwarded-for`
    /// (default) or `forwarded` (RFC 7239).
    pub forwarded_header: gateway_core::client_address::ForwardedHeader,
}

/// TLS from PEM files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Mutual TLS: clients must present a certificate issued by a CA of this PEM file, or
    /// the handshake fails (see `docs/security.md`).
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// With `client_ca_file`: a client without a certificate may still connect (one that
    /// presents a certificate must present a valid one). Default false: required.
    #[serde(default)]
    pub client_auth_optional: bool,
}

impl ServerConfig {
    /// The number of connection-serving threads `workers` asks for.
    pub fn worker_threads(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 4 * 1024 * 1024,
            max_header_bytes: 16 * 1024,
            header_timeout_secs: 30,
            body_timeout_secs: 30,
            request_timeout_secs: 600,
            shutdown_grace_secs: 30,
            tls: None,
            data_dir: PathBuf::from("data"),
            workers: 0,
            tls_handshake_timeout_secs: 10,
            idle_timeout_secs: 60,
            h2_keep_alive_interval_secs: 30,
            h2_keep_alive_timeout_secs: 20,
            max_connections: 0,
            reserved_descriptors: 128,
            linger_timeout_secs: 5,
            linger_max_bytes: 64 * 1024 * 1024,
            trusted_proxies: Vec::new(),
            forwarded_header: gateway_core::client_address::ForwardedHeader::default(),
        }
    }
}
