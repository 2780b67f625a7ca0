//! Fetching a JWKS document. The trait lets the application plug its own HTTP client;
//! [`HttpJwksFetcher`] works out of the box (hyper-util + rustls, webpki roots).

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::AuthError;

/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// Fetches the JWKS document at `url` (the body, as text).
#[async_trait]
pub trait JwksFetcher: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<String, AuthError>;
}

/// GET over HTTP/1.1 or HTTP/2, TLS by rustls with the webpki roots.
#[derive(Clone, Debug)]
pub struct HttpJwksFetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl HttpJwksFetcher {
    pub fn new(connect_timeout: Duration) -> Result<Self, AuthError> {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| AuthError::Config(format!("TLS setup for JWKS fetching failed: {e}")))?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(https);
        Ok(HttpJwksFetcher { client })
    }
}

#[async_trait]
impl JwksFetcher for HttpJwksFetcher {
    async fn fetch(&self, url: &str) -> Result<String, AuthError> {
        let request = http::Request::get(url)
            .header(
                http::header::ACCEPT,
                "application/json, application/jwk-set+json",
            )
            .header(http::header::USER_AGENT, "llm-gateway")
            .body(Empty::new())
            .map_err(|e| AuthError::Jwks(format!("bad JWKS request: {e}")))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| AuthError::Jwks(format!("GET {url}: {e}")))?;
        if !response.status().is_success() {
            return Err(AuthError::Jwks(format!(
                "GET {url}: status {}",
                response.status()
            )));
        }
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|e| AuthError::Jwks(format!("GET {url}: {e}")))?
            .to_bytes();
        String::from_utf8(body.to_vec())
            .map_err(|_| AuthError::Jwks(format!("GET {url}: body is not UTF-8")))
    }
}
