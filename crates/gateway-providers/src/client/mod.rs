//! The pooled upstream HTTP client shared by every provider: hyper's HTTP/1.1 and HTTP/2
//! connections over hyper-rustls (webpki roots, or a private CA's with
//! [`HttpClient::with_root_certificates`]; aws-lc-rs; HTTP/2 where the server offers it via
//! ALPN, one shared connection per thread), `TCP_NODELAY`, a connection pool per thread ([`pool`]), and the three timeouts
//! (connect, first byte, total).

mod pool;
mod retry_after;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;

use gateway_core::{ProviderError, TimeoutPhase};

use crate::sse::StreamLimits;

pub use pool::UpstreamBody;
pub use retry_after::{MAX_RETRY_AFTER, retry_after};

/// Upstream timeouts, and the bounds of a streamed answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// Until the response status and headers arrive.
    pub first_byte: Duration,
    /// The whole non-streamed exchange; for streams, the longest silence between two events
    /// (comment lines and vendor keep-alive events do not count as events).
    pub total: Duration,
    /// The longest a streamed answer may last, from its response head.
    pub max_stream: Duration,
    /// Longest event-stream line, and largest event data, accepted from the upstream (bytes).
    pub max_sse_line: usize,
}

/// Default [`Timeouts::max_stream`]: one hour.
pub const DEFAULT_MAX_STREAM: Duration = Duration::from_secs(3600);

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_secs(60),
            total: Duration::from_secs(300),
            max_stream: DEFAULT_MAX_STREAM,
            max_sse_line: crate::sse::DEFAULT_MAX_LINE,
        }
    }
}

impl Timeouts {
    /// The bounds of an event stream read with these settings.
    pub fn stream(&self) -> StreamLimits {
        StreamLimits {
            idle: self.total,
            max_duration: self.max_stream,
            max_line: self.max_sse_line,
        }
    }
}

/// Upper bound on a non-streamed upstream body we are willing to buffer.
const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;

/// How long an upstream connection may wait unused in the pool.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per upstream host and thread.
const MAX_IDLE_PER_HOST: usize = 256;

/// A cheap-to-clone pooled client; clones share their connections.
#[derive(Clone)]
pub struct HttpClient {
    shared: Arc<pool::Shared>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("connect_timeout", &self.shared.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client that trusts the public web PKI (webpki roots).
    pub fn new(connect_timeout: Duration) -> Result<Self, ProviderError> {
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| ProviderError::Connect(format!("TLS setup failed: {e}")))?;
        Ok(Self::from_tls(tls, connect_timeout))
    }

    /// A client that trusts only `roots`: upstreams behind a private certificate authority
    /// (an internal vLLM or Ollama, say), or a test server.
    pub fn with_root_certificates(
        connect_timeout: Duration,
        roots: rustls::RootCertStore,
    ) -> Result<Self, ProviderError> {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ProviderError::Connect(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tls = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config);
        Ok(Self::from_tls(tls, connect_timeout))
    }

    /// HTTP/1.1 and HTTP/2 (by ALPN) over `tls`, plain HTTP for `http://` upstreams.
    fn from_tls(
        tls: hyper_rustls::HttpsConnectorBuilder<hyper_rustls::builderstates::WantsSchemes>,
        connect_timeout: Duration,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect_timeout));
        http.set_keepalive(Some(Duration::from_secs(60)));
        let https = tls
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        HttpClient {
            shared: Arc::new(pool::Shared {
                connector: https,
                connect_timeout,
                idle_timeout: IDLE_TIMEOUT,
                max_idle_per_host: MAX_IDLE_PER_HOST,
            }),
        }
    }

    /// How long opening a connection (TCP and TLS) may take with this client.
    pub fn connect_timeout(&self) -> Duration {
        self.shared.connect_timeout
    }

    /// Send a request and wait for the response head, bounded by `first_byte`.
    pub async fn send(
        &self,
        req: Request<Full<Bytes>>,
        timeouts: &Timeouts,
    ) -> Result<Response<UpstreamBody>, ProviderError> {
        match tokio::time::timeout(timeouts.first_byte, self.shared.send(req)).await {
            Err(_) => Err(ProviderError::Timeout(TimeoutPhase::FirstByte)),
            Ok(result) => result,
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + '_)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Read a whole (non-streamed) body, bounded in size and by the remaining time.
pub async fn read_body(body: UpstreamBody, deadline: Duration) -> Result<Bytes, ProviderError> {
    let limited = Limited::new(body, MAX_UPSTREAM_BODY);
    match tokio::time::timeout(deadline, crate::body::collect(limited)).await {
        Err(_) => Err(ProviderError::Timeout(TimeoutPhase::Total)),
        Ok(Err(e)) => Err(ProviderError::InvalidResponse(format!(
            "reading the body failed: {e}"
        ))),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// Whether a status means success.
pub fn is_success(status: StatusCode) -> bool {
    status.is_success()
}
