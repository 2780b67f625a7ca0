//! The gateway's admin API (`/admin/v1/tenants`, `/admin/v1/keys`) as the operator uses it:
//! typed views of what the gateway answers, and the few calls reconciliation needs. A 404 is
//! an answer (`None`), not an error: the tenant or key is simply not there.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::crd::Limits;

/// Longest wait for one admin call.
const TIMEOUT: Duration = Duration::from_secs(15);
/// Largest answer read (a key or tenant view is well under 4 KiB).
const MAX_ANSWER: usize = 1 << 20;

/// A failed admin call.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot reach the gateway admin API at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the gateway answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("the gateway's answer is not what was expected: {0}")]
    Unexpected(String),
}

/// Limits as the admin API spells them (snake_case).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpd: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpd: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd_daily: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd_monthly: Option<f64>,
}

impl From<&Limits> for WireLimits {
    fn from(l: &Limits) -> WireLimits {
        WireLimits {
            rps: l.rps,
            rpm: l.rpm,
            rpd: l.rpd,
            tpm: l.tpm,
            tpd: l.tpd,
            max_concurrency: l.max_concurrency,
            budget_usd_daily: l.budget_usd_daily,
            budget_usd_monthly: l.budget_usd_monthly,
        }
    }
}

/// `GET /admin/v1/tenants/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub allowed_models: Option<Vec<String>>,
    pub allowed_regions: Option<Vec<String>>,
    pub limits: WireLimits,
}

/// `GET /admin/v1/keys/{id}` (and create's answer, which adds `secret`).
#[derive(Debug, Clone, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub prefix: String,
    /// `active`, `disabled`, `expired` or `revoked`.
    pub status: String,
    pub roles: Vec<String>,
    pub allowed_models: Option<Vec<String>>,
    pub limits: WireLimits,
    pub expires_at: Option<String>,
    #[serde(default)]
    pub metadata: Value,
    pub enabled: bool,
    pub revoked_at: Option<String>,
    /// Only in the answer that created the key.
    #[serde(default)]
    pub secret: Option<String>,
}

/// One gateway's admin API.
#[derive(Clone)]
pub struct AdminClient {
    base: String,
    token: String,
    http: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token never prints.
        f.debug_struct("AdminClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl AdminClient {
    /// A client for the gateway at `base` (`http://host:port`, or https with the webpki roots).
    pub fn new(base: &str, token: &str) -> AdminClient {
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        AdminClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.trim().to_owned(),
            http: HyperClient::builder(TokioExecutor::new()).build(https),
        }
    }

    /// The base URL (for messages).
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn tenant(&self, id: &str) -> Result<Option<TenantView>, AdminError> {
        self.call(Method::GET, &format!("/admin/v1/tenants/{}", enc(id)), None)
            .await
    }

    pub async fn create_tenant(&self, body: &Value) -> Result<TenantView, AdminError> {
        self.call(Method::POST, "/admin/v1/tenants", Some(body))
            .await?
            .ok_or_else(|| AdminError::Unexpected("404 on create".to_owned()))
    }

    pub async fn update_tenant(
        &self,
        id: &str,
        body: &Value,
    ) -> Result<Option<TenantView>, AdminError> {
        let path = format!("/admin/v1/tenants/{}", enc(id));
        self.call(Method::PATCH, &path, Some(body)).await
    }

    /// Deletes a tenant (and its keys); `false` when there was none.
    pub async fn delete_tenant(&self, id: &str) -> Result<bool, AdminError> {
        let path = format!("/admin/v1/tenants/{}", enc(id));
        Ok(self
            .call::<Value>(Method::DELETE, &path, None)
            .await?
            .is_some())
    }

    pub async fn key(&self, id: &str) -> Result<Option<KeyView>, AdminError> {
        self.call(Method::GET, &format!("/admin/v1/keys/{}", enc(id)), None)
            .await
    }

    /// Creates a key; the answer carries its secret (the only time it is shown).
    pub async fn create_key(&self, body: &Value) -> Result<KeyView, AdminError> {
        let key: KeyView = self
            .call(Method::POST, "/admin/v1/keys", Some(body))
            .await?
            .ok_or_else(|| AdminError::Unexpected("404 on create".to_owned()))?;
        if key.secret.is_none() {
            return Err(AdminError::Unexpected(
                "a created key without its secret".to_owned(),
            ));
        }
        Ok(key)
    }

    pub async fn update_key(&self, id: &str, body: &Value) -> Result<Option<KeyView>, AdminError> {
        self.call(
            Method::PATCH,
            &format!("/admin/v1/keys/{}", enc(id)),
            Some(body),
        )
        .await
    }

    /// Revokes a key; `None` when it does not exist (any more).
    pub async fn revoke_key(&self, id: &str) -> Result<Option<KeyView>, AdminError> {
        let path = format!("/admin/v1/keys/{}/revoke", enc(id));
        self.call(Method::POST, &path, None).await
    }

    /// One call: the decoded 2xx answer, `None` on 404, else an error with the gateway's
    /// message (never the token).
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<T>, AdminError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |detail: String| AdminError::Unreachable {
            url: self.base.clone(),
            detail,
        };
        let bytes = match body {
            Some(v) => Bytes::from(v.to_string()),
            None => Bytes::new(),
        };
        let request = Request::builder()
            .method(method)
            .uri(&url)
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("gateway-operator/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(bytes))
            .map_err(|e| unreachable(format!("invalid URL: {e}")))?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| unreachable(chain(&e)))?;
            let status = response.status();
            let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| unreachable(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, AdminError>((status, body))
        };
        let (status, body) = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| unreachable(format!("no answer within {} s", TIMEOUT.as_secs())))??;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let message = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
            return Err(AdminError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| AdminError::Unexpected(e.to_string()))
    }
}

/// Percent-encodes a path segment (ids are validated by the gateway, but a resource's name
/// must never change the path).
fn enc(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(enc("acme-1.x_y"), "acme-1.x_y");
        assert_eq!(enc("../keys?x=1"), "..%2Fkeys%3Fx%3D1");
    }

    #[test]
    fn limits_travel_in_the_gateways_spelling() {
        let limits = Limits {
            rpm: Some(60),
            max_concurrency: Some(4),
            ..Limits::default()
        };
        let wire = serde_json::to_value(WireLimits::from(&limits)).unwrap_or_default();
        assert_eq!(wire, serde_json::json!({"rpm": 60, "max_concurrency": 4}));
    }
}
