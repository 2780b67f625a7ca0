//! The one mock listener: the per-connection hyper server, request recording, and dispatch
//! to the wire format of its [`Vendor`] (OpenAI here, the others in [`crate::vendors`]).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::body::MockBody;
use crate::recorder::{RECORD_LIMIT, Recorder};
use crate::{chat, embeddings, respond, vendors};

/// Which wire format a [`MockServer`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vendor {
    /// OpenAI's API under `/v1` (the default).
    OpenAi,
    Anthropic,
    Gemini,
    Azure,
    /// AWS Bedrock Runtime (Converse, ConverseStream), SigV4-signed.
    Bedrock,
    /// Google Vertex AI (Gemini and Claude publishers) and its OAuth token endpoint.
    Vertex,
}

/// How the mock behaves for every request.
#[derive(Clone, Debug)]
pub struct MockOptions {
    /// Added to every response, before its headers are sent.
    pub latency: Duration,
    /// Keep requests for [`MockServer::requests`]; load tests turn it off.
    pub record: bool,
    /// How many of the latest requests are kept (default [`RECORD_LIMIT`]).
    pub record_limit: usize,
}

impl Default for MockOptions {
    /// No latency, recording on.
    fn default() -> Self {
        Self::new()
    }
}

impl MockOptions {
    /// No latency, recording on.
    pub fn new() -> Self {
        Self {
            latency: Duration::ZERO,
            record: true,
            record_limit: RECORD_LIMIT,
        }
    }

    /// The same options with `latency` added to every response.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The same options keeping the latest `limit` requests.
    pub fn with_record_limit(mut self, limit: usize) -> Self {
        self.record_limit = limit;
        self
    }

    /// The same options with recording switched on or off.
    pub fn with_record(mut self, record: bool) -> Self {
        self.record = record;
        self
    }
}

/// One request as the mock received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// The URI path, without the query.
    pub path: String,
    /// The raw query string (`None` when the URI had none), so tests can check where
    /// credentials travel.
    pub query: Option<String>,
    /// Header names are lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl RecordedRequest {
    fn new(parts: &http::request::Parts, body: &Bytes) -> Self {
        let headers = parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers,
            body: body.clone(),
        }
    }

    /// The body parsed as JSON; `Value::Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of a query parameter (not percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .as_deref()?
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    }
}

/// State shared by every connection of one server.
pub struct State {
    options: MockOptions,
    requests: Recorder<RecordedRequest>,
    model_counts: Mutex<HashMap<String, u64>>,
    ids: AtomicU64,
    connections: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    /// 1, 2, 3... per server, for response ids.
    pub fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// `chatcmpl-mock-N`, N counting from 1 per server.
    pub fn next_completion_id(&self) -> String {
        format!("chatcmpl-mock-{}", self.next_id())
    }

    /// Unix time in seconds.
    pub fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// Counts one more request for `model` and returns the count, starting at 1.
    pub fn count_model_request(&self, model: &str) -> u64 {
        let mut counts = lock(&self.model_counts);
        let count = counts.entry(model.to_owned()).or_insert(0);
        *count += 1;
        *count
    }

    fn record(&self, parts: &http::request::Parts, body: &Bytes) {
        let request = RecordedRequest::new(parts, body);
        self.requests.push(request);
    }
}

/// A running mock of one vendor's HTTP API; it stops (listener and connections) when dropped.
pub struct MockServer {
    vendor: Vendor,
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("vendor", &self.vendor)
            .field("addr", &self.addr)
            .field("options", &self.state.options)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts a recording OpenAI mock without latency on `127.0.0.1:0`.
    pub async fn start() -> std::io::Result<MockServer> {
        Self::start_vendor(Vendor::OpenAi).await
    }

    /// Starts an OpenAI mock on `addr` (port 0 picks a free port) with `opts`.
    pub async fn start_on(addr: SocketAddr, opts: MockOptions) -> std::io::Result<MockServer> {
        Self::start_vendor_on(Vendor::OpenAi, addr, opts).await
    }

    /// Starts a recording mock of `vendor` without latency on `127.0.0.1:0`.
    pub async fn start_vendor(vendor: Vendor) -> std::io::Result<MockServer> {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_vendor_on(vendor, addr, MockOptions::new()).await
    }

    /// Starts a mock of `vendor` on `addr` (port 0 picks a free port) with `opts`.
    pub async fn start_vendor_on(
        vendor: Vendor,
        addr: SocketAddr,
        opts: MockOptions,
    ) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            requests: Recorder::new(opts.record_limit),
            options: opts,
            model_counts: Mutex::new(HashMap::new()),
            ids: AtomicU64::new(0),
            connections: AtomicU64::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, vendor, Arc::clone(&state)));
        Ok(MockServer {
            vendor,
            addr,
            state,
            task,
        })
    }

    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the vendor's SDKs take as base URL: `http://ADDR/v1` for OpenAI,
    /// `http://ADDR/v1beta` for Gemini, `http://ADDR` for Anthropic, Azure and Bedrock (the
    /// client appends `/v1/messages`, `/openai/...` or `/model/...`).
    pub fn base_url(&self) -> String {
        match self.vendor {
            Vendor::OpenAi => format!("http://{}/v1", self.addr),
            Vendor::Gemini => format!("http://{}/v1beta", self.addr),
            Vendor::Anthropic | Vendor::Azure | Vendor::Bedrock | Vendor::Vertex => {
                format!("http://{}", self.addr)
            }
        }
    }

    /// How many connections the mock has accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// The requests received so far (when recording), in arrival order: the latest
    /// [`MockOptions::record_limit`].
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.snapshot()
    }

    /// How many requests were recorded in all, including those no longer kept.
    pub fn requests_seen(&self) -> u64 {
        self.state.requests.seen()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state.requests.clear();
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts until aborted; the connections live in a `JoinSet` so aborting this task
/// (dropping the set) closes them too.
async fn accept_loop(listener: TcpListener, vendor: Vendor, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    state.connections.fetch_add(1, Ordering::Relaxed);
                    connections.spawn(serve_connection(stream, vendor, Arc::clone(&state)));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, vendor: Vendor, state: Arc<State>) {
    // Without Nagle every SSE event leaves as soon as it is written; failure only costs latency.
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(handle(vendor, &state, request).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    // Connection errors (resets, aborted streams) end this connection only.
    let _ = builder
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn handle(vendor: Vendor, state: &State, request: Request<Incoming>) -> Response<MockBody> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    if state.options.record {
        state.record(&parts, &body);
    }
    if !state.options.latency.is_zero() {
        tokio::time::sleep(state.options.latency).await;
    }
    // The vendor handlers read the request whether or not it is recorded.
    let request = || RecordedRequest::new(&parts, &body);
    match vendor {
        Vendor::OpenAi => openai(state, &parts, &body).await,
        Vendor::Anthropic => vendors::anthropic::handle(state, &request()).await,
        Vendor::Gemini => vendors::gemini::handle(state, &request()).await,
        Vendor::Azure => vendors::azure::handle(state, &request()).await,
        Vendor::Bedrock => vendors::bedrock::handle(state, &request()).await,
        Vendor::Vertex => vendors::vertex::handle(state, &request()).await,
    }
}

/// OpenAI's routes, under any prefix ending in `/v1` (the OpenAI-compatible marketplaces root
/// their APIs at `/openai/v1`, `/inference/v1`, `/api/v1`...: a preset's own path is kept
/// when a test points it at the mock).
async fn openai(state: &State, parts: &http::request::Parts, body: &Bytes) -> Response<MockBody> {
    let full = parts.uri.path();
    let path = full.find("/v1/").map_or(full, |at| &full[at..]);
    match (&parts.method, path) {
        (&Method::POST, "/v1/chat/completions") => chat::handle(state, body).await,
        (&Method::POST, "/v1/embeddings") => embeddings::handle(state, body).await,
        (&Method::GET, "/v1/models") => respond::models(),
        (&Method::GET, _) => match path.strip_prefix("/v1/models/") {
            Some(id) if !id.is_empty() && !id.contains('/') => respond::model(id),
            _ => respond::not_found(parts.method.as_str(), path),
        },
        _ => respond::not_found(parts.method.as_str(), path),
    }
}
