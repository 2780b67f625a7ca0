//! Mock of Azure OpenAI: OpenAI's wire format at
//! `/openai/deployments/{deployment}/{chat/completions|embeddings}?api-version=...`, with the
//! key in `api-key`. The deployment name scripts the behaviour. A missing `api-version` is
//! Azure's 404, a missing key its 401; `mock-400` is Azure's content-filter rejection.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{
    Behaviour, VendorRequest, VendorState, behaviour, content_text, echo, sse, sse_event, words,
};
use crate::body::MockBody;

fn error(status: u16, body: Value) -> Response<MockBody> {
    super::json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &body,
    )
}

fn simple(status: u16, code: &str, message: &str) -> Response<MockBody> {
    error(status, json!({"error": {"code": code, "message": message}}))
}

pub(crate) async fn handle(state: &VendorState, req: &VendorRequest) -> Response<MockBody> {
    if req.query_param("api-version").is_none_or(str::is_empty) {
        return simple(404, "404", "Resource not found");
    }
    if req.header("api-key").is_none_or(str::is_empty) {
        return simple(
            401,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        );
    }
    if req.method == "GET" && req.path == "/openai/models" {
        return super::json(
            StatusCode::OK,
            &json!({"object": "list", "data": [
            {"id": "gpt-4o-2024-08-06", "object": "model", "created": 0, "owned_by": "system"}]}),
        );
    }
    let route = req
        .path
        .strip_prefix("/openai/deployments/")
        .and_then(|r| r.split_once('/'));
    let body = req.json();
    match route {
        Some((deployment, "chat/completions")) if req.method == "POST" => {
            chat(state, deployment, &body).await
        }
        Some((deployment, "embeddings")) if req.method == "POST" => {
            embeddings(state, deployment, &body).await
        }
        _ => simple(404, "404", "Resource not found"),
    }
}

async fn failure(state: &VendorState, deployment: &str) -> Option<Response<MockBody>> {
    Some(match behaviour(state, deployment).await {
        Behaviour::RateLimited => super::with_retry_after(simple(
            429,
            "429",
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.",
        )),
        Behaviour::ServerError | Behaviour::Overloaded => simple(
            500,
            "InternalServerError",
            "The service is temporarily unable to process your request.",
        ),
        Behaviour::BadRequest => error(
            400,
            json!({"error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            "type": null, "param": "prompt", "code": "content_filter", "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"hate": {"filtered": true, "severity": "high"}}}}}),
        ),
        Behaviour::Unauthorized => {
            simple(401, "401", "Access denied due to invalid subscription key.")
        }
        Behaviour::Malformed => super::malformed(),
        _ => return None,
    })
}

fn filters() -> Value {
    json!({"hate": {"filtered": false, "severity": "safe"}, "self_harm": {"filtered": false, "severity": "safe"},
        "sexual": {"filtered": false, "severity": "safe"}, "violence": {"filtered": false, "severity": "safe"}})
}

async fn chat(state: &VendorState, deployment: &str, body: &Value) -> Response<MockBody> {
    let Some(messages) = body["messages"].as_array().filter(|m| !m.is_empty()) else {
        return simple(400, "BadRequest", "'messages' is a required property");
    };
    if let Some(response) = failure(state, deployment).await {
        return response;
    }
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| content_text(&m["content"]));
    let text = echo(&last_user.unwrap_or_default());
    let prompt: u64 = messages
        .iter()
        .map(|m| words(&content_text(&m["content"])) + 3)
        .sum();
    let usage = json!({"prompt_tokens": prompt, "completion_tokens": words(&text), "total_tokens": prompt + words(&text)});
    let id = format!("chatcmpl-azure-{}", state.next_id());
    let prompt_filters = json!([{"prompt_index": 0, "content_filter_results": filters()}]);
    if body["stream"].as_bool() != Some(true) {
        return super::json(
            StatusCode::OK,
            &json!({
            "id": id, "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-4o-2024-08-06",
            "prompt_filter_results": prompt_filters,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null,
                "message": {"role": "assistant", "content": text, "refusal": null}, "content_filter_results": filters()}],
            "usage": usage, "system_fingerprint": "fp_azure"}),
        );
    }
    let chunk = |choices: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_azure", "choices": choices})
    };
    // Azure's first event carries the prompt filter results and no choices.
    let mut events: Vec<Bytes> = vec![sse_event(
        None,
        &json!({"id": "", "object": "", "created": 0, "model": "", "choices": [], "prompt_filter_results": prompt_filters}),
    )];
    events.push(sse_event(None, &chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]))));
    for w in super::word_chunks(&text) {
        events.push(sse_event(
            None,
            &chunk(
                json!([{"index": 0, "delta": {"content": w}, "finish_reason": null,
            "content_filter_results": filters()}]),
            ),
        ));
    }
    events.push(sse_event(
        None,
        &chunk(json!([{"index": 0, "delta": {}, "finish_reason": "stop"}])),
    ));
    if body["stream_options"]["include_usage"] == true {
        let mut last = chunk(json!([]));
        last["usage"] = usage;
        events.push(sse_event(None, &last));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    sse(events, false)
}

async fn embeddings(state: &VendorState, deployment: &str, body: &Value) -> Response<MockBody> {
    if let Some(response) = failure(state, deployment).await {
        return response;
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => return simple(400, "BadRequest", "'input' is a required property"),
    };
    let tokens: u64 = inputs.iter().map(|i| words(i)).sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| json!({"object": "embedding", "index": i, "embedding": [words(text) as f32, 0.5, -0.25]}))
        .collect();
    super::json(
        StatusCode::OK,
        &json!({"object": "list", "data": data, "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
    )
}
