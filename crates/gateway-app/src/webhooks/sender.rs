//! Sending one signed delivery: the URL is checked and its host resolved once
//! ([`super::ssrf`]), and the connection goes to exactly those addresses (a resolver that
//! answers only them), with the URL's host as `Host` and TLS server name. Redirects are not
//! followed (a 3xx is a failed attempt); the whole exchange is bounded by `[webhooks]
//! timeout`, and at most `max_response_bytes` of the answer are read.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;

use super::ssrf::UrlPolicy;

/// What an attempt got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// The receiver answered with this status.
    Status(u16),
    /// No answer: why, in the gateway's words.
    Failed(String),
}

/// Posts a delivery. The dispatcher's tests replace it; the gateway uses [`HttpTransport`].
#[async_trait]
pub trait Transport: Send + Sync {
    async fn post(&self, url: &str, headers: &[(&'static str, String)], body: Bytes) -> SendResult;
}

/// The real transport: HTTP/1.1 over TCP or TLS (web PKI roots), SSRF-checked.
pub struct HttpTransport {
    pub policy: UrlPolicy,
    pub timeout: Duration,
    pub max_response_bytes: usize,
}

/// Answers every lookup with the addresses checked beforehand (also used to fetch
/// threat-intelligence feeds).
#[derive(Clone)]
pub(crate) struct Pinned(pub(crate) std::sync::Arc<Vec<SocketAddr>>);

impl tower_service::Service<Name> for Pinned {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    // The connector needs an owned iterator (it outlives this borrow).
    #[allow(clippy::unnecessary_to_owned)]
    fn call(&mut self, _: Name) -> Self::Future {
        std::future::ready(Ok(self.0.to_vec().into_iter()))
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

impl HttpTransport {
    fn exchange<'a>(
        &'a self,
        url: &'a str,
        headers: &'a [(&'static str, String)],
        body: Bytes,
    ) -> BoxFuture<'a, SendResult> {
        Box::pin(async move {
            let target = match self.policy.resolve(url).await {
                Ok(t) => t,
                Err(why) => return SendResult::Failed(why),
            };
            let mut http =
                HttpConnector::new_with_resolver(Pinned(std::sync::Arc::new(target.addrs.clone())));
            http.enforce_http(false);
            http.set_nodelay(true);
            http.set_connect_timeout(Some(self.timeout));
            let tls = match hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
            {
                Ok(b) => b,
                Err(e) => return SendResult::Failed(format!("TLS setup failed: {e}")),
            };
            let connector = tls.https_or_http().enable_http1().wrap_connector(http);
            let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector);
            let mut request = Request::post(target.url.as_str())
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::USER_AGENT, "llm-gateway-webhooks/1");
            for (name, value) in headers {
                request = request.header(*name, value);
            }
            let request = match request.body(Full::new(body)) {
                Ok(r) => r,
                Err(e) => return SendResult::Failed(format!("invalid request: {e}")),
            };
            let response = match client.request(request).await {
                Ok(r) => r,
                Err(e) => return SendResult::Failed(connect_error(&e)),
            };
            let status = response.status().as_u16();
            // Read (and discard) a bounded part of the answer, so that a well-behaved
            // receiver sees its response consumed; a larger one is cut off.
            let mut body = response.into_body();
            let mut read = 0usize;
            while read <= self.max_response_bytes {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        read += frame.data_ref().map_or(0, Bytes::len);
                    }
                    _ => break,
                }
            }
            SendResult::Status(status)
        })
    }
}

fn connect_error(e: &hyper_util::client::legacy::Error) -> String {
    if e.is_connect() {
        "could not connect to the receiver".to_owned()
    } else {
        "the connection failed before an answer".to_owned()
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn post(&self, url: &str, headers: &[(&'static str, String)], body: Bytes) -> SendResult {
        match tokio::time::timeout(self.timeout, self.exchange(url, headers, body)).await {
            Ok(result) => result,
            Err(_) => {
                SendResult::Failed(format!("no answer within {} ms", self.timeout.as_millis()))
            }
        }
    }
}
