//! `GET /v1/async/{id}` and `DELETE /v1/async/{id}`: an asynchronous call's state or answer,
//! and cancelling one that has not started. Only callers of the job's tenant see it; any
//! other id (another tenant's, unknown, or deleted after its retention) is a 404. Errors come
//! in the job's dialect; before the job is known, in the dialect the credential's header
//! suggests (`x-api-key`: Anthropic's, `x-goog-api-key` or `?key=`: Gemini's, else OpenAI's),
//! so that nothing about another tenant's job shows.

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::Value;

use gateway_core::GatewayError;
use gateway_core::store::{AsyncJob, AsyncStatus};

use super::body::{Body, full, json_bytes, response};
use super::error::ErrorShape;
use super::inbound::Inbound;
use super::routes::PathParams;
use crate::async_calls::job::shape_of;
use crate::async_calls::{job_not_found, job_view};
use crate::files::is_valid_id;
use crate::state::AppState;

/// What a request does to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncOp {
    Get,
    Cancel,
}

/// The header that says where a job stands, on every answer about one.
const STATUS_HEADER: &str = "x-gateway-async-status";

/// Handles one request; an error comes with the shape it is to be rendered in (the edge
/// counts, audits and renders it like any other refusal).
pub async fn handle(
    state: &AppState,
    req: Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
    op: AsyncOp,
) -> Result<Response<Body>, (GatewayError, ErrorShape)> {
    let mut shape = credential_shape(req.headers(), req.uri().query());
    let result: Result<Response<Body>, GatewayError> = async {
        let token = super::extract_token(req.headers())
            .map(str::to_owned)
            .or_else(|| query_key(req.uri().query()));
        let principal = inbound.authenticate_token(state, token.as_deref()).await?;
        let id = params.get(0).unwrap_or_default();
        let calls = state
            .async_calls
            .as_ref()
            .filter(|_| is_valid_id(id, "async_"))
            .ok_or_else(|| job_not_found(id))?;
        let job = match op {
            AsyncOp::Get => calls.store.get_job(&principal.tenant, id).await?,
            AsyncOp::Cancel => {
                calls
                    .store
                    .cancel_job(&principal.tenant, id, std::time::SystemTime::now())
                    .await?
            }
        }
        .ok_or_else(|| job_not_found(id))?;
        shape = shape_of(&job.route);
        match op {
            AsyncOp::Get => answer(&job),
            AsyncOp::Cancel if job.status == AsyncStatus::Cancelled => object(&job, StatusCode::OK),
            AsyncOp::Cancel => Err(GatewayError::InvalidRequest {
                message: format!(
                    "The async job {} is {}: only a pending job can be cancelled.",
                    job.id,
                    job.status.as_str()
                ),
                param: None,
                code: Some("async_job_not_pending"),
            }),
        }
    }
    .await;
    result.map_err(|e| (e, shape))
}

/// A job's answer: its stored response once it ran, else the job object.
fn answer(job: &AsyncJob) -> Result<Response<Body>, GatewayError> {
    match (job.status, &job.result) {
        (AsyncStatus::Completed, Some(result)) => {
            let mut resp = Response::new(full(result.body.clone()));
            *resp.status_mut() =
                StatusCode::from_u16(result.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let headers = resp.headers_mut();
            if let Ok(Value::Object(kept)) = serde_json::from_str::<Value>(&result.headers) {
                for (name, value) in kept {
                    if let (Ok(name), Some(Ok(value))) = (
                        HeaderName::from_bytes(name.as_bytes()),
                        value.as_str().map(HeaderValue::from_str),
                    ) {
                        headers.insert(name, value);
                    }
                }
            }
            mark(headers, job);
            Ok(resp)
        }
        (AsyncStatus::Failed, _) => Err(GatewayError::Upstream {
            status: 502,
            message: format!(
                "The async job {} was in flight when a gateway instance stopped, twice; it was not sent a third time. Submit it again.",
                job.id
            ),
            retry_after: None,
            retryable: false,
        }),
        (AsyncStatus::Pending | AsyncStatus::Running, _) => object(job, StatusCode::ACCEPTED),
        _ => object(job, StatusCode::OK),
    }
}

/// The job object with `status`.
fn object(job: &AsyncJob, status: StatusCode) -> Result<Response<Body>, GatewayError> {
    let mut resp = response(full(json_bytes(&job_view(job))?), "application/json");
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    if status == StatusCode::ACCEPTED {
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from(1u64));
    }
    mark(headers, job);
    Ok(resp)
}

fn mark(headers: &mut HeaderMap, job: &AsyncJob) {
    headers.insert(STATUS_HEADER, HeaderValue::from_static(job.status.as_str()));
    if job.retried {
        headers.insert("x-gateway-async-retried", HeaderValue::from_static("true"));
    }
}

/// The error shape the credential's header suggests.
fn credential_shape(headers: &HeaderMap, query: Option<&str>) -> ErrorShape {
    let bearer = headers.contains_key(http::header::AUTHORIZATION);
    if !bearer && headers.contains_key("x-api-key") {
        ErrorShape::Anthropic
    } else if !bearer && (headers.contains_key("x-goog-api-key") || query_key(query).is_some()) {
        ErrorShape::Gemini
    } else {
        ErrorShape::OpenAi
    }
}

/// Gemini's `?key=` credential.
fn query_key(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_header_picks_the_error_shape() {
        let mut h = HeaderMap::new();
        assert_eq!(credential_shape(&h, None), ErrorShape::OpenAi);
        assert_eq!(credential_shape(&h, Some("key=k")), ErrorShape::Gemini);
        h.insert("x-api-key", HeaderValue::from_static("k"));
        assert_eq!(credential_shape(&h, None), ErrorShape::Anthropic);
        h.insert("authorization", HeaderValue::from_static("Bearer k"));
        assert_eq!(credential_shape(&h, None), ErrorShape::OpenAi);
        let mut g = HeaderMap::new();
        g.insert("x-goog-api-key", HeaderValue::from_static("k"));
        assert_eq!(credential_shape(&g, None), ErrorShape::Gemini);
    }
}
