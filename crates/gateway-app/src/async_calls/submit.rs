//! Accepting an asynchronous call: by the time [`submit`] runs, the model-call handler has
//! authenticated the caller, read the body within its limits and decoded it in the route's
//! dialect (a bad request has had its error already). Here: a stream is refused (there is
//! nobody to stream to), the callback URL is checked (SSRF guard; it must be one of the
//! tenant's webhook endpoints, whose secret signs it), the queue's bound is enforced, and the
//! job is stored and answered `202 Accepted` with its id and `Location`.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

use gateway_core::phases::cache::CacheDirectives;
use gateway_core::store::{AsyncJob, AsyncStatus};
use gateway_core::{AuthMethod, GatewayError, LimitKind, Principal};

use super::{AsyncCalls, CALLBACK_HEADER, CALLBACK_METADATA, PATH_PREFIX, job_view, new_job_id};
use crate::batches::owner;
use crate::dialects::{Call, CallTarget};
use crate::http::body::{Body, full, json_bytes, response};
use crate::http::inbound::Inbound;
use crate::state::AppState;

/// Longest callback URL accepted.
const MAX_CALLBACK_URL: usize = 2048;

/// What a submission carries besides the decoded call.
pub struct Submission<'a> {
    pub principal: Principal,
    pub headers: &'a HeaderMap,
    pub target: CallTarget<'a>,
    pub body: &'a [u8],
    pub cache: CacheDirectives,
}

/// Stores the call as a job and answers `202`.
pub async fn submit(
    state: &AppState,
    calls: &AsyncCalls,
    inbound: &Inbound,
    call: &Call,
    s: Submission<'_>,
) -> Result<Response<Body>, GatewayError> {
    if streams(call) {
        return Err(GatewayError::InvalidRequest {
            message: "A streamed answer cannot be combined with `Prefer: respond-async`: send the call without `stream: true` (or to the non-streaming method) to run it asynchronously, or without the preference to stream it.".to_owned(),
            param: Some("stream".to_owned()),
            code: Some("stream_not_supported_async"),
        });
    }
    state.refuse_if_passthrough(&s.principal.tenant, "Asynchronous calls")?;
    let callback_url = callback_url(state, &s.principal, s.headers).await?;
    if calls.store.pending_jobs().await? >= calls.config.max_pending {
        return Err(GatewayError::RateLimited {
            limit: LimitKind::Concurrency,
            message: format!(
                "The gateway's queue of asynchronous calls is full ({} waiting); retry later or call synchronously.",
                calls.config.max_pending
            ),
            retry_after: Some(calls.config.poll_interval.max(Duration::from_secs(1))),
        });
    }
    let body = std::str::from_utf8(s.body).map_err(|_| GatewayError::InvalidRequest {
        message: "The request body is not UTF-8 text.".to_owned(),
        param: None,
        code: None,
    })?;
    let request = json!({
        "body": body,
        "params": s.target.params.values().collect::<Vec<_>>(),
        "query": s.target.query.and_then(without_credentials),
        "owner": owner::snapshot(&s.principal),
        "request_id": inbound.request_id,
        "cache": {
            "no_cache": s.cache.no_cache,
            "no_store": s.cache.no_store,
            "ttl_ms": s.cache.ttl.map(|t| t.as_millis() as u64),
        },
    });
    let now = SystemTime::now();
    let job = AsyncJob {
        id: new_job_id(),
        tenant: s.principal.tenant.clone(),
        route: inbound.route.to_owned(),
        status: AsyncStatus::Pending,
        request: request.to_string(),
        callback_url,
        result: None,
        attempts: 0,
        retried: false,
        notified: false,
        created_at: now,
        updated_at: now,
        completed_at: None,
    };
    calls.store.create_job(&job).await?;
    calls.wake();
    tracing::info!(job = %job.id, route = inbound.route, "async call accepted");
    accepted(&job)
}

/// Whether the decoded call asks for a stream.
fn streams(call: &Call) -> bool {
    match call {
        Call::Chat(chat) => chat.stream,
        Call::Embeddings(_) => false,
        Call::Response(turn) => turn.streams(),
    }
}

/// The `202 Accepted` of a stored job.
fn accepted(job: &AsyncJob) -> Result<Response<Body>, GatewayError> {
    let mut resp = response(full(json_bytes(&job_view(job))?), "application/json");
    *resp.status_mut() = StatusCode::ACCEPTED;
    let headers = resp.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&format!("{PATH_PREFIX}{}", job.id)) {
        headers.insert(http::header::LOCATION, location);
    }
    headers.insert(
        "preference-applied",
        HeaderValue::from_static("respond-async"),
    );
    headers.insert(http::header::RETRY_AFTER, HeaderValue::from(1u64));
    Ok(resp)
}

/// The query string without the credential a Gemini caller may put there (`key=`): it is
/// never stored.
fn without_credentials(query: &str) -> Option<String> {
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "key")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    (!kept.is_empty()).then(|| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .finish()
    })
}

fn bad_callback(message: String) -> GatewayError {
    GatewayError::InvalidRequest {
        message,
        param: Some(CALLBACK_HEADER.to_owned()),
        code: Some("invalid_callback_url"),
    }
}

/// The callback URL of the call: the request's `x-gateway-callback-url`, else the key's
/// `async_callback_url` metadata; checked against the SSRF guard now (and again when it is
/// called), and required to be one of the tenant's enabled webhook endpoints.
async fn callback_url(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
) -> Result<Option<String>, GatewayError> {
    let from_header = match headers.get(CALLBACK_HEADER) {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| bad_callback(format!("{CALLBACK_HEADER} is not text.")))?
                .trim()
                .to_owned(),
        ),
        None => None,
    };
    let url = match from_header {
        Some(url) => url,
        None if principal.method == AuthMethod::ApiKey => {
            match state.store.get_key(&principal.subject).await? {
                Some(key) => match key.metadata.get(CALLBACK_METADATA).and_then(Value::as_str) {
                    Some(url) => url.trim().to_owned(),
                    None => return Ok(None),
                },
                None => return Ok(None),
            }
        }
        None => return Ok(None),
    };
    if url.is_empty() || url.len() > MAX_CALLBACK_URL {
        return Err(bad_callback(format!(
            "The callback URL must be 1 to {MAX_CALLBACK_URL} characters."
        )));
    }
    let Some(webhooks) = &state.webhooks else {
        return Err(bad_callback(
            "Callbacks need webhooks, which this gateway does not run (no SQL store).".to_owned(),
        ));
    };
    webhooks
        .policy
        .resolve(&url)
        .await
        .map_err(|why| bad_callback(format!("The callback URL is refused: {why}")))?;
    let registered = webhooks
        .store
        .list_endpoints(Some(&principal.tenant))
        .await?
        .into_iter()
        .any(|e| e.enabled && e.url == url);
    if !registered {
        return Err(bad_callback(format!(
            "The callback URL {url} is not an enabled webhook endpoint of your tenant: register it once (POST /admin/v1/webhooks); its signing secret signs the callbacks."
        )));
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gemini_key_in_the_query_is_never_stored() {
        assert_eq!(without_credentials("key=AIza-secret"), None);
        assert_eq!(
            without_credentials("alt=json&key=AIza-secret").as_deref(),
            Some("alt=json")
        );
        assert_eq!(without_credentials("").as_deref(), None);
    }
}
