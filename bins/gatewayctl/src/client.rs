//! A small HTTP/1.1 client for the admin API (plain http, or https with the webpki roots),
//! and the errors a user sees, each with its exit code.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Everything that can go wrong, worded for the operator at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot reach the gateway at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the admin token was rejected ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("the gateway answered {status}: {message}")]
    Gateway { status: u16, message: String },
    #[error("{0}")]
    Other(String),
}

impl CtlError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CtlError::Gateway { .. } | CtlError::Other(_) => 1,
            CtlError::Usage(_) => 2,
            CtlError::Unreachable { .. } => 3,
            CtlError::Rejected { .. } => 4,
        }
    }
}

pub struct Client {
    base: String,
    /// The admin credential; `None` for the unauthenticated probes (`health`).
    token: Option<String>,
    timeout: Duration,
    http: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Client {
    pub fn new(base: &str, token: Option<&str>, timeout: Duration) -> Result<Client, CtlError> {
        let base = base.trim_end_matches('/').to_owned();
        let uri: http::Uri = base
            .parse()
            .map_err(|e| CtlError::Usage(format!("invalid gateway URL '{base}': {e}")))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(CtlError::Usage(format!(
                "invalid gateway URL '{base}': use http://HOST:PORT or https://HOST:PORT"
            )));
        }
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Ok(Client {
            base,
            token,
            timeout,
            http: HyperClient::builder(TokioExecutor::new()).build(https),
        })
    }

    /// Fail with a usage error unless an admin token was given (every admin command needs one).
    pub fn require_token(&self) -> Result<(), CtlError> {
        match self.token {
            Some(_) => Ok(()),
            None => Err(CtlError::Usage(
                "no admin token: pass --token or set GATEWAY_ADMIN_TOKEN".to_owned(),
            )),
        }
    }

    /// Send one admin request; the decoded JSON of a 2xx answer, else a [`CtlError`].
    pub async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Value, CtlError> {
        let url = format!("{}{path_and_query}", self.base);
        let bytes = match body {
            Some(v) => {
                Bytes::from(serde_json::to_vec(v).map_err(|e| CtlError::Other(e.to_string()))?)
            }
            None => Bytes::new(),
        };
        let mut request = Request::builder().method(method).uri(&url);
        if let Some(token) = &self.token {
            request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("gatewayctl/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(bytes))
            .map_err(|e| CtlError::Usage(format!("cannot build a request for {url}: {e}")))?;
        let unreachable = |detail: String| CtlError::Unreachable {
            url: self.base.clone(),
            detail,
        };
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| unreachable(chain(&e)))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| unreachable(format!("the connection broke: {e}")))?
                .to_bytes();
            Ok::<_, CtlError>((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                unreachable(format!(
                    "no answer within {} seconds",
                    self.timeout.as_secs()
                ))
            })??;
        interpret(status, &body)
    }
}

/// The error and its causes on one line ("connection refused" lives in a source).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

fn interpret(status: StatusCode, body: &[u8]) -> Result<Value, CtlError> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if status.is_success() {
        return json.ok_or_else(|| {
            CtlError::Other(format!(
                "the gateway answered {status} with a body that is not JSON"
            ))
        });
    }
    let message = json
        .as_ref()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("no message").to_owned()
            } else {
                text.chars().take(300).collect()
            }
        });
    let status = status.as_u16();
    Err(match status {
        401 | 403 => CtlError::Rejected { status, message },
        _ => CtlError::Gateway { status, message },
    })
}

/// Percent-encode a query value (everything but RFC 3986 unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?a=1&b=2` from the pairs that have a value; empty when none do.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings() {
        assert_eq!(query(&[("a", None)]), "");
        assert_eq!(
            query(&[
                ("from", Some("2024-05-01T00:00:00+02:00".into())),
                ("x", None),
                ("m", Some("a/b c".into()))
            ]),
            "?from=2024-05-01T00%3A00%3A00%2B02%3A00&m=a%2Fb%20c"
        );
    }

    #[test]
    fn statuses_map_to_errors() {
        let body = br#"{"error":{"message":"Invalid credentials"}}"#;
        let e = interpret(StatusCode::UNAUTHORIZED, body).unwrap_err();
        assert_eq!(e.exit_code(), 4);
        assert!(
            e.to_string().contains("rejected") && e.to_string().contains("Invalid credentials")
        );
        let e = interpret(
            StatusCode::NOT_FOUND,
            br#"{"error":{"message":"key 'k' not found."}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the gateway answered 404: key 'k' not found."
        );
        let e = interpret(StatusCode::BAD_GATEWAY, b"oops").unwrap_err();
        assert!(e.to_string().contains("oops"));
        assert_eq!(interpret(StatusCode::OK, br#"{"a":1}"#).unwrap()["a"], 1);
    }

    #[test]
    fn urls_and_tokens_are_checked() {
        let t = Duration::from_secs(1);
        assert!(matches!(
            Client::new("ftp://x", Some("t"), t),
            Err(CtlError::Usage(_))
        ));
        // Without a token (or a blank one) only the unauthenticated probes may run.
        for token in [None, Some(" ")] {
            let client = Client::new("http://127.0.0.1:1", token, t).unwrap();
            assert!(matches!(client.require_token(), Err(CtlError::Usage(_))));
        }
        let client = Client::new("http://127.0.0.1:1/", Some("t"), t).unwrap();
        assert!(client.require_token().is_ok());
    }
}
