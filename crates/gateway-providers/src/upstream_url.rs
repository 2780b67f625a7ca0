//! [`UpstreamUrl`]: one upstream URL with its fixed headers (credentials, versions), and the
//! request/response plumbing every vendor adapter shares: send, map error statuses, read
//! bounded bodies. (The inbound API a caller used is `gateway_core::Endpoint`, not this.)

use crate::client::UpstreamBody;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::Full;

use gateway_core::ProviderError;

use crate::client::{HttpClient, Timeouts, read_body};

/// Turns a non-2xx answer into an error (vendor-specific body formats).
pub type ErrorMapper = fn(StatusCode, &HeaderMap, &Bytes) -> ProviderError;

/// Where a provider sends one kind of call: the URL and the headers every request to it
/// carries.
#[derive(Clone)]
pub struct UpstreamUrl {
    pub uri: Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// The URL and the header names only: header values may be credentials.
impl std::fmt::Debug for UpstreamUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("UpstreamUrl")
            .field("uri", &self.uri)
            .field("headers", &names)
            .finish()
    }
}

impl UpstreamUrl {
    pub fn new(url: &str, headers: Vec<(HeaderName, HeaderValue)>) -> Result<Self, ProviderError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| ProviderError::Unsupported(format!("invalid upstream URL '{url}'")))?;
        match uri.scheme_str() {
            Some("http" | "https") if uri.host().is_some() => Ok(UpstreamUrl { uri, headers }),
            _ => Err(ProviderError::Unsupported(format!(
                "upstream URL '{url}' must be http(s)://host/..."
            ))),
        }
    }

    /// The same URL (and headers) at another path-and-query (e.g. Gemini's per-model URLs).
    pub fn with_path(&self, path_and_query: &str) -> Result<Self, ProviderError> {
        let mut parts = self.uri.clone().into_parts();
        parts.path_and_query = Some(path_and_query.parse().map_err(|_| {
            ProviderError::Unsupported(format!("invalid upstream path '{path_and_query}'"))
        })?);
        let uri = Uri::from_parts(parts)
            .map_err(|_| ProviderError::Unsupported("invalid upstream URL".to_owned()))?;
        Ok(UpstreamUrl {
            uri,
            headers: self.headers.clone(),
        })
    }

    /// The same URL with `extra` headers added (a call's signature or access token).
    pub fn with_headers(mut self, extra: Vec<(HeaderName, HeaderValue)>) -> Self {
        self.headers.extend(extra);
        self
    }

    /// The headers every request to this URL carries.
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    pub fn path(&self) -> &str {
        self.uri.path()
    }

    fn request(
        &self,
        method: Method,
        body: Bytes,
        accept: &'static str,
    ) -> Result<Request<Full<Bytes>>, ProviderError> {
        let mut builder = Request::builder().method(method).uri(self.uri.clone());
        if let Some(h) = builder.headers_mut() {
            h.reserve(self.headers.len() + 2);
            for (name, value) in &self.headers {
                h.insert(name.clone(), value.clone());
            }
            // A vendor's own media type (Bedrock's event stream) wins over the generic one.
            h.entry(http::header::ACCEPT)
                .or_insert(HeaderValue::from_static(accept));
            if !body.is_empty() {
                h.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
        }
        builder
            .body(Full::new(body))
            .map_err(|e| ProviderError::Unsupported(format!("cannot build request: {e}")))
    }

    async fn send(
        &self,
        client: &HttpClient,
        req: Request<Full<Bytes>>,
        timeouts: &Timeouts,
        on_error: ErrorMapper,
    ) -> Result<Response<UpstreamBody>, ProviderError> {
        let resp = client.send(req, timeouts).await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let (parts, body) = resp.into_parts();
        // Error bodies are small; read a bounded amount quickly for the message.
        let bytes = read_body(body, timeouts.first_byte)
            .await
            .unwrap_or_default();
        Err(on_error(parts.status, &parts.headers, &bytes))
    }

    /// POST a JSON body, read the whole JSON answer.
    pub async fn post_json(
        &self,
        client: &HttpClient,
        body: Bytes,
        timeouts: &Timeouts,
        on_error: ErrorMapper,
    ) -> Result<Bytes, ProviderError> {
        let started = tokio::time::Instant::now();
        let req = self.request(Method::POST, body, "application/json")?;
        let resp = self.send(client, req, timeouts, on_error).await?;
        let left = timeouts.total.saturating_sub(started.elapsed());
        read_body(resp.into_body(), left).await
    }

    /// POST a JSON body and hand back the streaming response once its head arrived.
    pub async fn post_stream(
        &self,
        client: &HttpClient,
        body: Bytes,
        timeouts: &Timeouts,
        on_error: ErrorMapper,
    ) -> Result<Response<UpstreamBody>, ProviderError> {
        let req = self.request(Method::POST, body, "text/event-stream")?;
        self.send(client, req, timeouts, on_error).await
    }

    pub async fn get(
        &self,
        client: &HttpClient,
        timeouts: &Timeouts,
        on_error: ErrorMapper,
    ) -> Result<Bytes, ProviderError> {
        let req = self.request(Method::GET, Bytes::new(), "application/json")?;
        let resp = self.send(client, req, timeouts, on_error).await?;
        read_body(resp.into_body(), timeouts.total).await
    }
}

/// A credential header for `provider`'s requests: its value is marked sensitive (kept out of
/// `Debug` output and HPACK tables); an error names the header, never the value.
pub(crate) fn secret_header(
    provider: &str,
    name: &str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), ProviderError> {
    let (name, mut value) = crate::headers::header(provider, name, value)?;
    value.set_sensitive(true);
    Ok((name, value))
}
