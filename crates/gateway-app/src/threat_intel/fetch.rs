//! Reading a feed's bytes (and its detached signature) from a file or an `https://` URL,
//! bounded in size and time. A URL is checked like a webhook's ([`UrlPolicy`]: public
//! addresses only unless `[threat_intel] allow_private` names the network, no credentials
//! in the URL), its host resolved once and connected to at exactly those addresses; a
//! redirect is not followed (a 3xx is a failed fetch), so it cannot lead to a private
//! address either. TLS is rustls with the web PKI roots, as for every outbound call.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::AsyncReadExt;

use crate::webhooks::UrlPolicy;
use crate::webhooks::sender::Pinned;

/// How long one fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads `source` (a URL or a file path), at most `max_bytes`.
pub async fn load(source: &str, max_bytes: u64, policy: &UrlPolicy) -> Result<Bytes, String> {
    let lower = source.to_ascii_lowercase();
    let read = async {
        if lower.starts_with("https://") || lower.starts_with("http://") {
            get(source, max_bytes, policy).await
        } else {
            read_file(source, max_bytes).await
        }
    };
    tokio::time::timeout(FETCH_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no complete answer within {} s",
                FETCH_TIMEOUT.as_secs()
            ))
        })
}

async fn read_file(path: &str, max_bytes: u64) -> Result<Bytes, String> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| format!("cannot open {path}: {e}"))?;
    let mut out = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut out)
        .await
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    if out.len() as u64 > max_bytes {
        return Err(format!("{path} is larger than max_bytes ({max_bytes})"));
    }
    Ok(Bytes::from(out))
}

async fn get(url: &str, max_bytes: u64, policy: &UrlPolicy) -> Result<Bytes, String> {
    let target = policy.resolve(url).await?;
    let mut http = HttpConnector::new_with_resolver(Pinned(std::sync::Arc::new(target.addrs)));
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let connector = tls.https_or_http().enable_http1().wrap_connector(http);
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    let request = Request::get(target.url.as_str())
        .header(http::header::USER_AGENT, "llm-gateway-threat-intel/1")
        .body(Empty::new())
        .map_err(|e| format!("invalid request: {e}"))?;
    let response = client.request(request).await.map_err(|e| {
        if e.is_connect() {
            "could not connect".to_owned()
        } else {
            "the connection failed before an answer".to_owned()
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the feed server answered {}", status.as_u16()));
    }
    let mut body = response.into_body();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| "the answer was cut off".to_owned())?;
        if let Some(data) = frame.data_ref() {
            if (out.len() + data.len()) as u64 > max_bytes {
                return Err(format!("the feed is larger than max_bytes ({max_bytes})"));
            }
            out.extend_from_slice(data);
        }
    }
    Ok(Bytes::from(out))
}
