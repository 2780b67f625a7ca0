//! One listener for a vendor mock: records every request (query string included, so tests can
//! check where credentials travel) and hands it to the vendor's handler.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::body::MockBody;
use crate::recorder::{RECORD_LIMIT, Recorder};

/// Which wire format a [`VendorServer`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vendor {
    Anthropic,
    Gemini,
    Azure,
}

/// One request as a vendor mock received it.
#[derive(Clone, Debug)]
pub struct VendorRequest {
    pub method: String,
    pub path: String,
    /// The raw query string (`None` when the URI had none).
    pub query: Option<String>,
    /// Header names are lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl VendorRequest {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

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

/// State shared by the connections of one vendor mock.
pub struct VendorState {
    requests: Recorder<VendorRequest>,
    model_counts: Mutex<HashMap<String, u64>>,
    ids: AtomicU64,
    connections: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl VendorState {
    /// Counts one more request for `model`, starting at 1.
    pub fn count_model_request(&self, model: &str) -> u64 {
        let mut counts = lock(&self.model_counts);
        let count = counts.entry(model.to_owned()).or_insert(0);
        *count += 1;
        *count
    }

    /// 1, 2, 3... per server, for response ids.
    pub fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// A running vendor mock on `127.0.0.1:0`; it stops when dropped.
pub struct VendorServer {
    vendor: Vendor,
    addr: SocketAddr,
    state: Arc<VendorState>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for VendorServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorServer")
            .field("vendor", &self.vendor)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl VendorServer {
    pub async fn start(vendor: Vendor) -> std::io::Result<VendorServer> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(VendorState {
            requests: Recorder::new(RECORD_LIMIT),
            model_counts: Mutex::new(HashMap::new()),
            ids: AtomicU64::new(0),
            connections: AtomicU64::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, vendor, Arc::clone(&state)));
        Ok(VendorServer {
            vendor,
            addr,
            state,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the vendor's SDKs take as base URL: `http://ADDR` for Anthropic and Azure (the
    /// client appends `/v1/messages` or `/openai/...`), `http://ADDR/v1beta` for Gemini.
    pub fn base_url(&self) -> String {
        match self.vendor {
            Vendor::Gemini => format!("http://{}/v1beta", self.addr),
            Vendor::Anthropic | Vendor::Azure => format!("http://{}", self.addr),
        }
    }

    /// How many connections the mock has accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// The latest requests received ([`RECORD_LIMIT`] at most), in arrival order.
    pub fn requests(&self) -> Vec<VendorRequest> {
        self.state.requests.snapshot()
    }

    /// How many requests arrived in all, including those no longer kept.
    pub fn requests_seen(&self) -> u64 {
        self.state.requests.seen()
    }

    pub fn clear_requests(&self) {
        self.state.requests.clear();
    }
}

impl Drop for VendorServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, vendor: Vendor, state: Arc<VendorState>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    state.connections.fetch_add(1, Ordering::Relaxed);
                    connections.spawn(serve_connection(stream, vendor, Arc::clone(&state)));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, vendor: Vendor, state: Arc<VendorState>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(handle(vendor, &state, request).await) }
    });
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn handle(
    vendor: Vendor,
    state: &VendorState,
    request: Request<Incoming>,
) -> Response<MockBody> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let recorded = VendorRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    state.requests.push(recorded.clone());
    match vendor {
        Vendor::Anthropic => super::anthropic::handle(state, &recorded).await,
        Vendor::Gemini => super::gemini::handle(state, &recorded).await,
        Vendor::Azure => super::azure::handle(state, &recorded).await,
    }
}
