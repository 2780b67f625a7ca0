//! Mock of Google Vertex AI and of Google's OAuth token endpoint, on one server:
//! `POST /token` takes a service account's JWT-bearer grant (the assertion's shape checked:
//! RS256, `iss`, `aud` ending in `/token`, the cloud-platform `scope`, `exp` after `iat`; not
//! its signature) and issues `ya29.mock-N` tokens for 3599 s (or 300 s, the refresh margin,
//! for an account whose email starts with `short-lived`, so that every call fetches anew).
//! Vertex calls need one of those tokens as a bearer:
//! `/v1/projects/P/locations/L/publishers/google/models/M:generateContent` and
//! `:streamGenerateContent?alt=sse` answer as the Gemini mock does;
//! `/publishers/anthropic/models/M:rawPredict` and `:streamRawPredict` as the Anthropic mock
//! does, after checking the body has `anthropic_version: vertex-2023-10-16` and no `model`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{VendorRequest, VendorState};
use crate::body::MockBody;

/// The `anthropic_version` Claude on Vertex requires.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

fn error(status: u16, kind: &str, message: &str) -> Response<MockBody> {
    super::json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &json!({"error": {"code": status, "message": message, "status": kind}}),
    )
}

fn oauth_error(code: &str, description: &str) -> Response<MockBody> {
    super::json(
        StatusCode::BAD_REQUEST,
        &json!({"error": code, "error_description": description}),
    )
}

fn form_value<'a>(form: &'a str, name: &str) -> Option<&'a str> {
    form.split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

fn segment(jwt_part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(jwt_part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Why an assertion is not a service account's token request, if it is not.
pub fn assertion_problem(assertion: &str) -> Option<String> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Some("the assertion is not a JWT".into());
    };
    let (Some(header), Some(claims)) = (segment(header), segment(claims)) else {
        return Some("the assertion's header or claims are not base64url JSON".into());
    };
    if header["alg"] != "RS256" || signature.is_empty() {
        return Some("the assertion must be signed RS256".into());
    }
    if claims["iss"].as_str().is_none_or(str::is_empty) {
        return Some("no iss".into());
    }
    if !claims["aud"]
        .as_str()
        .is_some_and(|a| a.ends_with("/token"))
    {
        return Some("aud is not the token URI".into());
    }
    if !claims["scope"]
        .as_str()
        .is_some_and(|s| s.contains("https://www.googleapis.com/auth/cloud-platform"))
    {
        return Some("scope lacks cloud-platform".into());
    }
    match (claims["iat"].as_u64(), claims["exp"].as_u64()) {
        (Some(iat), Some(exp)) if exp > iat && exp - iat <= 3600 => None,
        _ => Some("iat/exp missing or longer than an hour".into()),
    }
}

fn token(state: &VendorState, req: &VendorRequest) -> Response<MockBody> {
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        return oauth_error("invalid_request", "form body expected");
    }
    let form = String::from_utf8_lossy(&req.body);
    if form_value(&form, "grant_type")
        != Some("urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer")
    {
        return oauth_error("unsupported_grant_type", "Invalid grant_type");
    }
    let assertion = form_value(&form, "assertion").unwrap_or_default();
    if let Some(problem) = assertion_problem(assertion) {
        return oauth_error("invalid_grant", &problem);
    }
    let claims = assertion
        .split('.')
        .nth(1)
        .and_then(segment)
        .unwrap_or_default();
    let short = claims["iss"]
        .as_str()
        .is_some_and(|i| i.starts_with("short-lived"));
    super::json(
        StatusCode::OK,
        &json!({"access_token": format!("ya29.mock-{}", state.next_id()),
            "expires_in": if short { 300 } else { 3599 }, "token_type": "Bearer"}),
    )
}

pub(crate) async fn handle(state: &VendorState, req: &VendorRequest) -> Response<MockBody> {
    if req.method == "POST" && req.path == "/token" {
        return token(state, req);
    }
    if !req
        .header("authorization")
        .is_some_and(|a| a.starts_with("Bearer ya29.mock-"))
    {
        return error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        );
    }
    let target = req
        .path
        .split_once("/publishers/")
        .filter(|(head, _)| head.starts_with("/v1/projects/") && head.contains("/locations/"))
        .and_then(|(_, rest)| rest.split_once("/models/"))
        .and_then(|(publisher, rest)| Some((publisher, rest.split_once(':')?)));
    let Some((publisher, (model, method))) = target else {
        return error(404, "NOT_FOUND", &format!("not found: {}", req.path));
    };
    let mut inner = req.clone();
    inner.headers.retain(|(n, _)| n != "authorization");
    match publisher {
        "google" => {
            inner.path = format!("/v1beta/models/{model}:{method}");
            inner
                .headers
                .push(("x-goog-api-key".into(), "vertex".into()));
            super::gemini::handle(state, &inner).await
        }
        "anthropic" => {
            let stream = match method {
                "rawPredict" => false,
                "streamRawPredict" => true,
                _ => return error(404, "NOT_FOUND", &format!("Method not found: {method}")),
            };
            let mut body = req.json();
            if body["anthropic_version"] != ANTHROPIC_VERSION {
                return error(
                    400,
                    "INVALID_ARGUMENT",
                    "anthropic_version must be vertex-2023-10-16",
                );
            }
            let Some(obj) = body.as_object_mut().filter(|o| !o.contains_key("model")) else {
                return error(
                    400,
                    "INVALID_ARGUMENT",
                    "model is given in the URL, not the body",
                );
            };
            obj.remove("anthropic_version");
            obj.insert("model".into(), Value::String(model.to_owned()));
            obj.insert("stream".into(), Value::Bool(stream));
            inner.path = "/v1/messages".into();
            inner.body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
            inner.headers.push(("x-api-key".into(), "vertex".into()));
            inner
                .headers
                .push(("anthropic-version".into(), "2023-06-01".into()));
            super::anthropic::handle(state, &inner).await
        }
        _ => error(404, "NOT_FOUND", &format!("unknown publisher {publisher}")),
    }
}
