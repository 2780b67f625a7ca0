//! The upstream connection pool: one per thread, over hyper's connection API.
//!
//! The server serves each connection on one thread (`server.workers`), so each thread keeps
//! its own idle upstream connections in a thread-local list: a checkout is a short linear
//! scan and a `Vec::pop`, with no lock, no hashing of the host and no task spawned per call
//! (hyper-util's pooled client costs about three of each per call). A connection's I/O task
//! runs on the thread that opened it, so a call and its upstream connection stay on one
//! thread as well.
//!
//! HTTP/1.1 connections go back to the pool when their response body has been read to the
//! end ([`UpstreamBody`]); one dropped before that is closed, which is what closes the
//! upstream stream when a caller disconnects. An HTTP/2 connection (negotiated by ALPN) is
//! shared by all calls of its thread. A connection is dropped when it has been idle longer
//! than the idle timeout, when its peer closed it, or when its client is gone.

use std::cell::RefCell;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::{TrySendError, http1, http2};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::rt::TokioExecutor;
use tower_service::Service;

use gateway_core::{ProviderError, TimeoutPhase};

use super::error_chain;

type H1 = http1::SendRequest<Full<Bytes>>;
type H2 = http2::SendRequest<Full<Bytes>>;

/// What every clone of one [`super::HttpClient`] shares.
pub(super) struct Shared {
    pub connector: HttpsConnector<HttpConnector>,
    pub connect_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_idle_per_host: usize,
}

thread_local! {
    /// This thread's idle connections, one entry per (client, scheme, authority).
    static POOLS: RefCell<Vec<HostPool>> = const { RefCell::new(Vec::new()) };
}

struct HostPool {
    owner: Weak<Shared>,
    https: bool,
    authority: Authority,
    /// The `Host` header of HTTP/1.1 requests to this authority, built once.
    host: HeaderValue,
    /// HTTP/1.1 connections waiting for a request; the most recently used last.
    idle: Vec<Idle>,
    /// The HTTP/2 connection this thread shares, if the upstream negotiated HTTP/2.
    h2: Option<H2>,
}

struct Idle {
    sender: H1,
    since: Instant,
}

impl HostPool {
    fn is(&self, owner: &Arc<Shared>, https: bool, authority: &Authority) -> bool {
        std::ptr::eq(self.owner.as_ptr(), Arc::as_ptr(owner))
            && self.https == https
            && self.authority == *authority
    }
}

/// Runs `f` on this thread's pool for the target, creating the entry if needed. Entries of
/// dropped clients are removed when an entry is created: a configuration reload replaces the
/// client, so the new client's first call on each thread closes the old one's connections.
fn with_pool<R>(
    owner: &Arc<Shared>,
    target: &Target,
    f: impl FnOnce(&mut HostPool) -> R,
) -> Result<R, ProviderError> {
    POOLS.with_borrow_mut(|pools| {
        if let Some(pool) = pools
            .iter_mut()
            .find(|pool| pool.is(owner, target.https, &target.authority))
        {
            return Ok(f(pool));
        }
        pools.retain(|pool| pool.owner.strong_count() > 0);
        let host = host_header(target)?;
        pools.push(HostPool {
            owner: Arc::downgrade(owner),
            https: target.https,
            authority: target.authority.clone(),
            host,
            idle: Vec::new(),
            h2: None,
        });
        let last = pools.len() - 1;
        Ok(f(&mut pools[last]))
    })
}

/// Where a request goes: scheme and authority of its absolute URI.
struct Target {
    https: bool,
    authority: Authority,
}

impl Target {
    fn of(uri: &Uri) -> Result<Target, ProviderError> {
        let authority = uri.authority().cloned().ok_or_else(|| {
            ProviderError::Unsupported(format!("upstream URL '{uri}' has no host"))
        })?;
        Ok(Target {
            https: uri.scheme() == Some(&Scheme::HTTPS),
            authority,
        })
    }

    fn uri(&self, path: Option<PathAndQuery>) -> Result<Uri, ProviderError> {
        let scheme = if self.https {
            Scheme::HTTPS
        } else {
            Scheme::HTTP
        };
        Uri::builder()
            .scheme(scheme)
            .authority(self.authority.clone())
            .path_and_query(path.unwrap_or_else(|| PathAndQuery::from_static("/")))
            .build()
            .map_err(|e| ProviderError::Unsupported(format!("invalid upstream URL: {e}")))
    }
}

/// `Host` for HTTP/1.1: the authority without user info, the port only when not the default.
fn host_header(target: &Target) -> Result<HeaderValue, ProviderError> {
    let default_port = if target.https { 443 } else { 80 };
    let host = target.authority.host();
    let value = match target.authority.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    HeaderValue::try_from(value)
        .map_err(|_| ProviderError::Unsupported(format!("invalid upstream host '{host}'")))
}

enum Conn {
    H1(H1, HeaderValue),
    H2(H2),
}

impl Shared {
    /// Sends `req` (absolute URI) on a pooled connection, or on a new one. A pooled
    /// connection the upstream closed just before it was used hands the request back unsent;
    /// it is then sent once more on a new connection.
    pub(super) async fn send(
        self: &Arc<Self>,
        mut req: Request<Full<Bytes>>,
    ) -> Result<Response<UpstreamBody>, ProviderError> {
        let target = Target::of(req.uri())?;
        let mut reuse = true;
        loop {
            let pooled = if reuse { self.checkout(&target)? } else { None };
            let reused = pooled.is_some();
            let conn = match pooled {
                Some(conn) => conn,
                // Boxed: opening a connection holds a TLS stream and handshake state, several
                // KiB that every call's future would otherwise carry and copy when moved.
                None => Box::pin(self.connect(&target, &mut req)).await?,
            };
            let result = match conn {
                Conn::H1(mut sender, host) => {
                    to_origin_form(&mut req, host);
                    match sender.try_send_request(req).await {
                        Ok(resp) => {
                            let ticket = Ticket {
                                owner: Arc::downgrade(self),
                                target,
                                sender,
                            };
                            return Ok(resp.map(|body| UpstreamBody::new(body, Some(ticket))));
                        }
                        Err(err) => err,
                    }
                }
                Conn::H2(mut sender) => match sender.try_send_request(req).await {
                    Ok(resp) => return Ok(resp.map(|body| UpstreamBody::new(body, None))),
                    Err(err) => err,
                },
            };
            req = retryable(result, reused)?;
            reuse = false;
        }
    }

    fn checkout(self: &Arc<Self>, target: &Target) -> Result<Option<Conn>, ProviderError> {
        let idle_timeout = self.idle_timeout;
        with_pool(self, target, |pool| {
            if let Some(h2) = &pool.h2 {
                if !h2.is_closed() {
                    return Some(Conn::H2(h2.clone()));
                }
                pool.h2 = None;
            }
            // Stale, closed or (rarely) not yet ready connections are dropped, which closes them.
            while let Some(idle) = pool.idle.pop() {
                if idle.since.elapsed() < idle_timeout
                    && !idle.sender.is_closed()
                    && idle.sender.is_ready()
                {
                    return Some(Conn::H1(idle.sender, pool.host.clone()));
                }
            }
            None
        })
    }

    /// Opens a connection (TCP, then TLS with ALPN when https), bounded by the connect
    /// timeout, and starts its I/O task on this thread. `req` gets its absolute URI back if
    /// an earlier try turned it into origin form.
    async fn connect(
        self: &Arc<Self>,
        target: &Target,
        req: &mut Request<Full<Bytes>>,
    ) -> Result<Conn, ProviderError> {
        if req.uri().authority().is_none() {
            *req.uri_mut() = target.uri(req.uri().path_and_query().cloned())?;
        }
        let mut connector = self.connector.clone();
        let uri = req.uri().clone();
        let opened = tokio::time::timeout(self.connect_timeout, async move {
            std::future::poll_fn(|cx| connector.poll_ready(cx)).await?;
            connector.call(uri).await
        })
        .await;
        let io = match opened {
            Err(_) => return Err(ProviderError::Timeout(TimeoutPhase::Connect)),
            Ok(Err(e)) => return Err(connect_error(&*e)),
            Ok(Ok(io)) => io,
        };
        if io.connected().is_negotiated_h2() {
            let (sender, conn) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|e| ProviderError::Connect(format!("HTTP/2 handshake failed: {e}")))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            with_pool(self, target, |pool| pool.h2 = Some(sender.clone()))?;
            return Ok(Conn::H2(sender));
        }
        let (sender, conn) = http1::handshake(io)
            .await
            .map_err(|e| ProviderError::Connect(format!("HTTP/1.1 handshake failed: {e}")))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let host = with_pool(self, target, |pool| pool.host.clone())?;
        Ok(Conn::H1(sender, host))
    }
}

/// HTTP/1.1 requests carry the path only, and the authority in `Host`.
fn to_origin_form(req: &mut Request<Full<Bytes>>, host: HeaderValue) {
    req.headers_mut().entry(http::header::HOST).or_insert(host);
    if req.uri().authority().is_some() {
        let path = req
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        *req.uri_mut() = Uri::from(path);
    }
}

/// The request back if it was never sent on a pooled connection; otherwise the error.
fn retryable(
    mut err: TrySendError<Request<Full<Bytes>>>,
    reused: bool,
) -> Result<Request<Full<Bytes>>, ProviderError> {
    match err.take_message() {
        Some(req) if reused => Ok(req),
        _ => Err(ProviderError::Connect(format!(
            "upstream request failed: {}",
            error_chain(&err.into_error())
        ))),
    }
}

fn connect_error(e: &(dyn std::error::Error + Send + Sync)) -> ProviderError {
    let chain = error_chain(e);
    if chain.contains("timed out") || chain.contains("timeout") {
        ProviderError::Timeout(TimeoutPhase::Connect)
    } else {
        ProviderError::Connect(chain)
    }
}

/// Hands an HTTP/1.1 connection back to its thread's pool once its response is read.
struct Ticket {
    owner: Weak<Shared>,
    target: Target,
    sender: H1,
}

impl Ticket {
    fn give_back(self) {
        let Some(owner) = self.owner.upgrade() else {
            return;
        };
        let max = owner.max_idle_per_host;
        let Ticket { target, sender, .. } = self;
        let _ = with_pool(&owner, &target, |pool| {
            if pool.idle.len() < max {
                pool.idle.push(Idle {
                    sender,
                    since: Instant::now(),
                });
            }
        });
    }
}

/// An upstream response body; reading it to the end returns its connection to the pool.
pub struct UpstreamBody {
    inner: Incoming,
    ticket: Option<Ticket>,
}

impl std::fmt::Debug for UpstreamBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamBody").finish_non_exhaustive()
    }
}

impl UpstreamBody {
    fn new(inner: Incoming, ticket: Option<Ticket>) -> Self {
        let mut body = UpstreamBody { inner, ticket };
        if body.inner.is_end_stream() {
            body.release();
        }
        body
    }

    fn release(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            ticket.give_back();
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.release(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.release(),
            // An error leaves the connection unusable: dropping the ticket closes it.
            Poll::Ready(Some(Err(_))) => self.ticket = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
