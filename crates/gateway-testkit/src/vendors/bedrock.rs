//! Mock of the AWS Bedrock Runtime Converse API: `POST /model/{modelId}/converse` (JSON),
//! `POST /model/{modelId}/converse-stream` (`application/vnd.amazon.eventstream`, each
//! message framed and CRC-checked as AWS does) and `GET /foundation-models`. It checks that
//! each request is SigV4-signed in the right shape (`Authorization: AWS4-HMAC-SHA256
//! Credential=KEY/DATE/REGION/bedrock/aws4_request, SignedHeaders=...host...x-amz-date...,
//! Signature=64 hex digits`, an `x-amz-date` of the credential's date) or carries a bearer
//! API key, and answers errors as Bedrock does (`x-amzn-ErrorType` and `{"message": ...}`;
//! in a stream, an exception message).

use bytes::{BufMut, Bytes};
use http::{HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

use super::{Behaviour, VendorRequest, VendorState, behaviour, echo, words};
use crate::body::MockBody;

pub const TOOL_USE_ID: &str = "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q";
pub const TOOL_INPUT_PIECES: [&str; 2] = ["{\"sign\": ", "\"WZPZ\"}"];

fn error(status: u16, kind: &str, message: &str) -> Response<MockBody> {
    let mut response = super::json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &json!({ "message": message }),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"
    )) {
        response.headers_mut().insert("x-amzn-errortype", v);
    }
    response
}

/// Why the request's signature is not in SigV4's shape, if it is not.
pub fn signature_problem(req: &VendorRequest) -> Option<String> {
    let auth = req.header("authorization")?;
    if auth.starts_with("Bearer ") {
        return None;
    }
    let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Some("Authorization is not AWS4-HMAC-SHA256".into());
    };
    let field = |name: &str| {
        rest.split(", ")
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    };
    let (Some(credential), Some(signed), Some(signature)) = (
        field("Credential"),
        field("SignedHeaders"),
        field("Signature"),
    ) else {
        return Some("Authorization lacks Credential, SignedHeaders or Signature".into());
    };
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[3] != "bedrock" || scope[4] != "aws4_request" {
        return Some(format!("bad credential scope {credential}"));
    }
    let date = req.header("x-amz-date").unwrap_or_default();
    if date.len() != 16 || !date.starts_with(scope[1]) {
        return Some("x-amz-date missing or not the credential's date".into());
    }
    let signed: Vec<&str> = signed.split(';').collect();
    if !signed.contains(&"host") || !signed.contains(&"x-amz-date") {
        return Some("host and x-amz-date must be signed".into());
    }
    if req.header("x-amz-security-token").is_some() && !signed.contains(&"x-amz-security-token") {
        return Some("x-amz-security-token must be signed".into());
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some("Signature is not 64 hex digits".into());
    }
    None
}

/// `%XX` escapes of a path segment decoded (the model id).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) async fn handle(state: &VendorState, req: &VendorRequest) -> Response<MockBody> {
    if req.header("authorization").is_none() {
        return error(
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        );
    }
    if let Some(problem) = signature_problem(req) {
        return error(403, "IncompleteSignatureException", &problem);
    }
    if req.method == "GET" && req.path == "/foundation-models" {
        return super::json(
            StatusCode::OK,
            &json!({"modelSummaries": [
                {"modelId": "anthropic.claude-3-5-sonnet-20240620-v1:0", "providerName": "Anthropic"},
                {"modelId": "meta.llama3-1-70b-instruct-v1:0", "providerName": "Meta"}]}),
        );
    }
    let route = req
        .path
        .strip_prefix("/model/")
        .and_then(|rest| rest.rsplit_once('/'));
    match (req.method.as_str(), route) {
        ("POST", Some((model, op @ ("converse" | "converse-stream")))) => {
            converse(
                state,
                &percent_decode(model),
                &req.json(),
                op == "converse-stream",
            )
            .await
        }
        _ => error(404, "UnknownOperationException", "Not found"),
    }
}

fn last_user_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_array())
        .map(|blocks| blocks.iter().filter_map(|b| b["text"].as_str()).collect())
        .unwrap_or_default()
}

/// The first problem Bedrock would report for this body.
fn validate(body: &Value) -> Option<String> {
    let Some(messages) = body["messages"].as_array().filter(|m| !m.is_empty()) else {
        return Some("A conversation must start with a user message.".into());
    };
    let mut previous = "";
    for m in messages {
        let role = m["role"].as_str().unwrap_or_default();
        if role != "user" && role != "assistant" {
            return Some(format!("Invalid role {role}"));
        }
        if role == previous {
            return Some("A conversation must alternate between user and assistant roles.".into());
        }
        previous = role;
        if !m["content"].is_array() {
            return Some("content must be a list".into());
        }
    }
    None
}

async fn converse(
    state: &VendorState,
    model: &str,
    body: &Value,
    streaming: bool,
) -> Response<MockBody> {
    if body.is_null() {
        return error(400, "SerializationException", "body is not JSON");
    }
    if let Some(problem) = validate(body) {
        return error(400, "ValidationException", &problem);
    }
    let behaviour = behaviour(state, model).await;
    match behaviour {
        Behaviour::RateLimited => {
            return error(
                429,
                "ThrottlingException",
                "Too many requests, please wait before trying again.",
            );
        }
        Behaviour::ServerError => return error(500, "InternalServerException", "internal error"),
        Behaviour::Overloaded => {
            return error(503, "ServiceUnavailableException", "Service unavailable");
        }
        Behaviour::BadRequest => {
            return error(
                400,
                "ValidationException",
                "The provided model identifier is invalid.",
            );
        }
        Behaviour::Unauthorized => {
            return error(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            );
        }
        Behaviour::Malformed => return super::malformed(),
        _ => {}
    }
    let text = last_user_text(body);
    let tool = body["toolConfig"]["tools"][0]["toolSpec"]["name"].as_str();
    let reply = match tool {
        Some(name) if text.contains("call tool") => Err(name.to_owned()),
        _ => Ok(echo(&text)),
    };
    let input_tokens: u64 = body["messages"]
        .as_array()
        .map(|m| m.len() as u64 * 3)
        .unwrap_or_default()
        + words(&text);
    let output_tokens = match &reply {
        Ok(t) => words(t),
        Err(name) => words(name) + 4,
    };
    let usage = json!({"inputTokens": input_tokens, "outputTokens": output_tokens,
        "totalTokens": input_tokens + output_tokens});
    if streaming {
        return stream(&reply, &usage, behaviour);
    }
    let (content, stop) = match &reply {
        Ok(t) => (json!([{ "text": t }]), "end_turn"),
        Err(name) => {
            let input: Value =
                serde_json::from_str(&TOOL_INPUT_PIECES.concat()).unwrap_or_default();
            (
                json!([{ "toolUse": { "toolUseId": TOOL_USE_ID, "name": name, "input": input } }]),
                "tool_use",
            )
        }
    };
    super::json(
        StatusCode::OK,
        &json!({"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop, "usage": usage, "metrics": {"latencyMs": 42}}),
    )
}

/// One event-stream message: prelude (total and headers length, CRC-32), string headers,
/// payload, message CRC-32.
pub fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut encoded_headers = Vec::new();
    for (name, value) in headers {
        encoded_headers.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        encoded_headers.extend_from_slice(name.as_bytes());
        encoded_headers.push(7); // string
        encoded_headers.extend_from_slice(&u16::try_from(value.len()).unwrap_or(0).to_be_bytes());
        encoded_headers.extend_from_slice(value.as_bytes());
    }
    let total = 12 + encoded_headers.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.put_u32(u32::try_from(total).unwrap_or(u32::MAX));
    out.put_u32(u32::try_from(encoded_headers.len()).unwrap_or(u32::MAX));
    out.put_u32(crc32fast::hash(&out));
    out.extend_from_slice(&encoded_headers);
    out.extend_from_slice(payload);
    out.put_u32(crc32fast::hash(&out));
    Bytes::from(out)
}

/// An `event` message of type `kind` with a JSON payload.
pub fn event(kind: &str, payload: &Value) -> Bytes {
    let payload = serde_json::to_vec(payload).unwrap_or_default();
    frame(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        &payload,
    )
}

fn exception(kind: &str, message: &str) -> Bytes {
    let payload = serde_json::to_vec(&json!({ "message": message })).unwrap_or_default();
    frame(
        &[
            (":exception-type", kind),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        &payload,
    )
}

fn stream(
    reply: &Result<String, String>,
    usage: &Value,
    behaviour: Behaviour,
) -> Response<MockBody> {
    let mut events = vec![event(
        "messageStart",
        &json!({"role": "assistant", "p": "abcd"}),
    )];
    let mut deltas = Vec::new();
    let stop = match reply {
        Ok(text) => {
            deltas.extend(super::word_chunks(text).into_iter().map(|w| {
                event(
                    "contentBlockDelta",
                    &json!({"contentBlockIndex": 0, "delta": {"text": w}}),
                )
            }));
            "end_turn"
        }
        Err(name) => {
            events.push(event(
                "contentBlockStart",
                &json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": TOOL_USE_ID, "name": name}}}),
            ));
            deltas.extend(TOOL_INPUT_PIECES.iter().map(|p| {
                event(
                    "contentBlockDelta",
                    &json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": p}}}),
                )
            }));
            "tool_use"
        }
    };
    match behaviour {
        Behaviour::StreamStop(n) => {
            events.extend(
                deltas
                    .into_iter()
                    .take(usize::try_from(n).unwrap_or(usize::MAX)),
            );
            return event_stream(events, true);
        }
        Behaviour::StreamError => {
            events.extend(deltas.into_iter().take(1));
            events.push(exception(
                "throttlingException",
                "Too many tokens, please wait before trying again.",
            ));
            return event_stream(events, false);
        }
        _ => events.extend(deltas),
    }
    events.push(event("contentBlockStop", &json!({"contentBlockIndex": 0})));
    events.push(event("messageStop", &json!({"stopReason": stop})));
    events.push(event(
        "metadata",
        &json!({"usage": usage, "metrics": {"latencyMs": 42}}),
    ));
    event_stream(events, false)
}

fn event_stream(events: Vec<Bytes>, abort: bool) -> Response<MockBody> {
    let mut response = super::sse(events, abort);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    response
}
