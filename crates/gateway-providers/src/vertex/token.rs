//! Google service-account access tokens (OAuth 2.0 JWT bearer grant, RFC 7523): a JWT signed
//! RS256 with the account's private key (`iss` the account, `aud` its token URI, `scope`
//! cloud-platform, one hour) is exchanged at the token URI for an access token. The token is
//! cached and fetched again five minutes before it expires; concurrent callers share one fetch
//! (single-flight: the cache lock is held across the exchange).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderValue, Method, Request};
use http_body_util::Full;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

use gateway_core::{ProviderError, Secret};

use crate::client::{HttpClient, Timeouts, read_body};

/// The OAuth scope of Vertex AI calls.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Google's token endpoint, when the key names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// How long before its expiry a token is replaced.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);
const ASSERTION_LIFETIME: u64 = 3600;

/// The fields of a service-account key file used here.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    pub client_email: String,
    pub private_key: Secret<String>,
    #[serde(default)]
    pub private_key_id: Option<String>,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
}

fn default_token_uri() -> String {
    DEFAULT_TOKEN_URI.to_owned()
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("project_id", &self.project_id)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// A key file's JSON; errors never quote the file.
    pub fn from_json(json: &str) -> Result<Self, ProviderError> {
        serde_json::from_str(json).map_err(|e| {
            ProviderError::Unsupported(format!(
                "not a service-account key (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct Cached {
    header: HeaderValue,
    refresh_at: Instant,
}

/// Access tokens of one service account, cached.
pub struct TokenSource {
    key: ServiceAccountKey,
    signing_key: EncodingKey,
    token_uri: http::Uri,
    client: HttpClient,
    timeouts: Timeouts,
    cached: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("account", &self.key.client_email)
            .finish_non_exhaustive()
    }
}

fn token_error(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::Status {
        status: 502,
        message: format!("cannot get a Google access token: {what}"),
        retry_after: None,
    }
}

impl TokenSource {
    pub fn new(
        key: ServiceAccountKey,
        client: HttpClient,
        timeouts: Timeouts,
    ) -> Result<Self, ProviderError> {
        let signing_key =
            EncodingKey::from_rsa_pem(key.private_key.expose().as_bytes()).map_err(|_| {
                ProviderError::Unsupported(
                    "the service-account key's private_key is not an RSA PEM key".to_owned(),
                )
            })?;
        let token_uri: http::Uri = key.token_uri.parse().map_err(|_| {
            ProviderError::Unsupported("the service-account key's token_uri is invalid".to_owned())
        })?;
        Ok(TokenSource {
            key,
            signing_key,
            token_uri,
            client,
            timeouts,
            cached: Mutex::new(None),
        })
    }

    /// The signed assertion of a token request at `now` (seconds since the epoch).
    pub fn assertion(&self, now: u64) -> Result<String, ProviderError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&self.key.private_key_id);
        let claims = Claims {
            iss: &self.key.client_email,
            scope: SCOPE,
            aud: &self.key.token_uri,
            iat: now,
            exp: now + ASSERTION_LIFETIME,
        };
        jsonwebtoken::encode(&header, &claims, &self.signing_key)
            .map_err(|e| ProviderError::Unsupported(format!("cannot sign the assertion: {e}")))
    }

    /// `Bearer TOKEN`, from the cache while it is fresh, else from the token endpoint.
    pub async fn authorization(&self) -> Result<HeaderValue, ProviderError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.header.clone());
        }
        let fresh = self.fetch().await?;
        let header = fresh.header.clone();
        *cached = Some(fresh);
        Ok(header)
    }

    async fn fetch(&self) -> Result<Cached, ProviderError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let assertion = self.assertion(now)?;
        let form = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.token_uri.clone())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(form)))
            .map_err(token_error)?;
        let started = Instant::now();
        let resp = self.client.send(req, &self.timeouts).await?;
        let status = resp.status();
        let body = read_body(resp.into_body(), self.timeouts.first_byte).await?;
        if !status.is_success() {
            // The endpoint's error names the problem (`invalid_grant`...), never a secret.
            let reason = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| status.to_string());
            return Err(token_error(format!("the token endpoint answered {reason}")));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(token_error)?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        let mut header = HeaderValue::try_from(format!("Bearer {}", answer.access_token))
            .map_err(|_| token_error("the access token is not a header value"))?;
        header.set_sensitive(true);
        Ok(Cached {
            header,
            refresh_at: started + lifetime.saturating_sub(REFRESH_MARGIN),
        })
    }
}
