//! The pooled upstream HTTP client shared by every provider: hyper's HTTP/1.1 and HTTP/2
//! connections over hyper-rustls (webpki roots, or a private CA's with
//! [`HttpClient::with_root_certificates`]; aws-lc-rs; HTTP/2 where the server offers it via
//! ALPN, one shared connection per thread), `TCP_NODELAY`, a connection pool per thread ([`pool`]), and the three timeouts
//! (connect, first byte, total).

mod pool;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;

use gateway_core::{ProviderError, TimeoutPhase};

pub use pool::UpstreamBody;

/// Upstream timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// Until the response status and headers arrive.
    pub first_byte: Duration,
    /// The whole non-streamed exchange; for streams, the longest silence between two events.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_secs(60),
            total: Duration::from_secs(300),
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

/// `retry-after-ms`, then `retry-after` (seconds or HTTP date).
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok())
    {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    if let Ok(secs) = value.trim().parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate_parse(value)?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn httpdate_parse(value: &str) -> Option<std::time::SystemTime> {
    httpdate::parse_http_date(value).ok()
}

/// Whether a status means success.
pub fn is_success(status: StatusCode) -> bool {
    status.is_success()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
