//! The edge's share of telemetry: `GET /metrics`, and per request the `http.request` span
//! (continuing the caller's W3C `traceparent`), the HTTP counters and in-flight gauge (held
//! until a streamed body ends), and refusals — counted and audited with the caller's identity.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use tracing::Span;

use gateway_core::GatewayError;
use gateway_core::phases::account::AuditSink;
use gateway_providers::CircuitStatus;
use gateway_telemetry::events::{Caller, denial_event};
use gateway_telemetry::metrics::{CONTENT_TYPE, InFlight, Sample};
use gateway_telemetry::{DeploymentSnapshot, trace};

use super::body::{Body, full};
use super::inbound::Inbound;
use super::names;
use crate::state::AppState;

/// `GET /metrics`: Prometheus / OpenMetrics text (404 when `telemetry.metrics.enabled` is off).
pub fn metrics(state: &AppState) -> Result<Response<Body>, GatewayError> {
    let telemetry = &state.telemetry;
    if !telemetry.metrics_enabled() {
        return Err(GatewayError::NotFound(
            "Unknown path '/metrics'.".to_owned(),
        ));
    }
    let metrics = telemetry.metrics();
    metrics.set_deployments(deployments(state));
    metrics.set_external(phase_stats(state));
    let mut resp = Response::new(full(metrics.encode()));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    Ok(resp)
}

pub(super) fn circuit_name(c: CircuitStatus) -> &'static str {
    match c {
        CircuitStatus::Closed => "closed",
        CircuitStatus::Open => "open",
        CircuitStatus::HalfOpen => "half_open",
    }
}

fn deployments(state: &AppState) -> Vec<DeploymentSnapshot> {
    state
        .router
        .deployment_states()
        .into_iter()
        .map(|d| DeploymentSnapshot {
            model: d.model,
            provider: d.provider,
            upstream_model: d.upstream_model,
            circuit: circuit_name(d.circuit),
            in_flight: d.in_flight,
            attempts: d.requests,
            failures: d.failures,
        })
        .collect()
}

/// The limiter's and the cache's own counters, under the gateway's names.
fn phase_stats(state: &AppState) -> Vec<Sample> {
    let l = state.limiter.stats();
    let mut out = vec![
        Sample::counter(
            "gateway_limits_admitted",
            "Calls admitted by the limits phase",
            l.admitted,
        ),
        Sample::counter(
            "gateway_limits_queued",
            "Calls that waited in a limits queue",
            l.queued,
        ),
        Sample::counter(
            "gateway_limits_queue_timeouts",
            "Calls refused after waiting too long in a queue",
            l.queue_timeouts,
        ),
        Sample::counter(
            "gateway_limits_backend_errors",
            "Admissions the shared limits backend (Redis) failed to answer",
            l.backend_errors,
        ),
        Sample::gauge(
            "gateway_limits_backend_down",
            "1 while the shared limits backend (Redis) is considered down",
            f64::from(u8::from(l.backend_down)),
        ),
    ];
    if let Some(judge) = &state.judge {
        out.extend(judge.samples());
    }
    if let Some(calls) = &state.async_calls {
        for (status, n) in calls.counts() {
            out.push(
                Sample::gauge(
                    "gateway_async_jobs",
                    "Asynchronous calls in the store by state (as the worker last counted them)",
                    n as f64,
                )
                .with_label("state", status.as_str()),
            );
        }
    }
    if let Some(cache) = &state.cache {
        let c = cache.stats();
        let lookups = "Response cache lookups by result";
        out.extend([
            Sample::counter("gateway_cache_lookups", lookups, c.hits).with_label("result", "hit"),
            Sample::counter("gateway_cache_lookups", lookups, c.misses)
                .with_label("result", "miss"),
            Sample::counter("gateway_cache_lookups", lookups, c.bypasses)
                .with_label("result", "bypass"),
            Sample::counter(
                "gateway_cache_stores",
                "Responses written to the cache",
                c.stores,
            ),
            Sample::counter(
                "gateway_cache_evictions",
                "Cache entries evicted to stay within max_bytes",
                c.evictions,
            ),
            Sample::counter(
                "gateway_cache_errors",
                "Cache lookups and stores that failed (Redis unreachable or too slow, bad entry)",
                c.errors,
            ),
            Sample::gauge(
                "gateway_cache_backend_down",
                "1 while the cache's Redis is considered down (the cache is off meanwhile)",
                f64::from(u8::from(c.backend_down)),
            ),
        ]);
    }
    if let Some(backups) = &state.backups {
        let b = backups.stats();
        out.extend([
            Sample::gauge(
                "gateway_backup_last_success_timestamp_seconds",
                "Unix time of the newest successful backup (0: none since start)",
                b.last_success_unix,
            ),
            Sample::gauge(
                "gateway_backup_last_size_bytes",
                "Size of the newest archive this instance wrote",
                b.last_size_bytes as f64,
            ),
            Sample::gauge(
                "gateway_backup_last_duration_seconds",
                "How long the newest backup of this instance took",
                b.last_duration_secs,
            ),
            Sample::counter(
                "gateway_backup_successes",
                "Backups this instance wrote",
                b.successes,
            ),
            Sample::counter(
                "gateway_backup_failures",
                "Backups this instance attempted that failed",
                b.failures,
            ),
        ]);
    }
    out.extend(state.bandit.samples());
    out
}

/// One request as the edge sees it, from arrival until its body has been sent.
pub(super) struct Edge {
    route: &'static str,
    span: Span,
    in_flight: InFlight,
}

impl Edge {
    pub(super) fn start(state: &AppState, req: &Request<Incoming>, inbound: &Inbound) -> Edge {
        let header = |name: HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
        let span = trace::request_span(
            req.method().as_str(),
            inbound.route,
            &inbound.request_id,
            header(names::TRACEPARENT),
            header(names::TRACESTATE),
        );
        Edge {
            route: inbound.route,
            span,
            in_flight: state.telemetry.metrics().http_in_flight(),
        }
    }

    pub(super) fn span(&self) -> &Span {
        &self.span
    }

    /// A refusal the edge is about to answer: count it and audit it, naming the caller when
    /// a handler authenticated it (refusals only; no second authentication).
    pub(super) fn refused(&self, state: &AppState, err: &GatewayError, inbound: &Inbound) {
        let telemetry = &state.telemetry;
        telemetry.metrics().observe_error(err);
        let ip = inbound.client_ip.map(|ip| ip.to_string());
        let caller = Caller {
            tenant: inbound.caller.as_ref().map(|(tenant, _)| tenant),
            subject: inbound.caller.as_ref().map(|(_, subject)| &**subject),
            ip: ip.as_deref(),
        };
        // A refused credential (not a missing one) is a guess as far as anomaly detection
        // is concerned: counted for the client's network and the gateway, and for the tenant
        // of the key it names when that key exists (revoked, expired, disabled).
        if let GatewayError::Unauthenticated(refusal) = err
            && refusal.reason == gateway_core::AuthFailure::Invalid
        {
            state.anomalies.auth_failure(
                inbound.client_ip,
                refusal.tenant.as_ref(),
                inbound.presented.unwrap_or(0),
            );
        }
        if let Some(event) = denial_event(err, caller, &inbound.request_id, self.route) {
            telemetry.audit(event);
        }
        if let (Some(hooks), Some((tenant, subject))) = (&state.webhooks, &inbound.caller) {
            hooks.events.refused(err, tenant, subject, self.route);
        }
    }

    /// Count the answered request; the in-flight gauge and the span last until the body ends.
    pub(super) fn finish(self, state: &AppState, resp: Response<Body>) -> Response<Body> {
        let status = resp.status().as_u16();
        state.telemetry.metrics().http_request(self.route, status);
        trace::record_status(&self.span, status);
        let Edge {
            span, in_flight, ..
        } = self;
        resp.map(|body| {
            Held {
                body,
                _span: span,
                _in_flight: in_flight,
            }
            .boxed_unsync()
        })
    }
}

/// A response body that keeps the request's span and in-flight gauge until it ends, and
/// passes the body's size on, so that a whole body goes out with `content-length` rather
/// than chunked (`map_frame` would hide the size).
struct Held {
    body: Body,
    _span: Span,
    _in_flight: InFlight,
}

impl hyper::body::Body for Held {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
