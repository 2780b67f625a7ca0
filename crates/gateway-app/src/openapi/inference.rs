//! The operations of the edge's route table ([`ROUTES`](crate::http::routes::ROUTES)): model
//! calls in each dialect, the calls that are not model calls, and the public endpoints.
//!
//! A new route gets its operation here: one arm in [`describe`] (by handler, or for a model
//! call by its dialect's endpoint). Until it has one, the coverage test names it.

use schemars::SchemaGenerator;
use serde_json::{Value, json};

use gateway_core::types::{ChatChunk, EmbeddingsRequest, EmbeddingsResponse, ModelInfo};
use gateway_core::{ChatRequest, ChatResponse, Endpoint};
use gateway_telemetry::metrics;

use super::async_wire::AsyncJobObject;
use super::batch_wire::{BatchList, BatchObject, CreateBatch};
use super::gemini;
use super::operation::{Access, Operation};
use super::wire::{
    AnthropicMessageResponse, AnthropicTokenCount, FileDeleted, FileList, FileObject,
    ResponseDeleted, ResponseInputItems, ResponseObject,
};
use crate::dialects::anthropic::MessagesRequest;
use crate::dialects::gemini::models::{GeminiModel, GeminiModelList};
use crate::dialects::query::{Query, QueryResponse};
use crate::dialects::responses::CreateResponse;
use crate::http::batches::BatchesOp;
use crate::http::error::{ErrorBody, ErrorShape};
use crate::http::feedback::{FeedbackRequest, FeedbackView};
use crate::http::files::FilesOp;
use crate::http::guardrails_check::{CheckRequest, CheckResponse};
use crate::http::info::{Health, ModelList, Readiness};
use crate::http::routes::{Handler, Route};

/// Errors of a call that authenticates and reads a body.
const CALLER_ERRORS: &[u16] = &[400, 401, 403, 408, 413, 429, 500, 503];
/// Errors of a model call: those of any call, the model's, guardrails' and the upstream's.
const MODEL_CALL_ERRORS: &[u16] = &[400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504];

/// The events of Anthropic's stream; each event's `data.type` is its name.
const ANTHROPIC_EVENTS: &[&str] = &[
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
];

/// The operation of `route`, or `None` when it has none yet.
/// The 202 of a model call sent with `Prefer: respond-async`.
const ASYNC_ACCEPTED: &str = "Accepted (the request had `Prefer: respond-async`): the job, at `Location: /v1/async/{id}`; `Preference-Applied: respond-async`. See docs/async.md.";

pub fn describe(route: &Route, g: &mut SchemaGenerator) -> Option<Operation> {
    let shape = route.errors;
    let op = match route.handler {
        Handler::Health => Operation::new("health", "Operations", "Liveness")
            .description("The process answers. Cheap enough for frequent probes.")
            .access(Access::Public)
            .answer::<Health>(g, 200, "Alive."),
        Handler::Ready => Operation::new("ready", "Operations", "Readiness")
            .description(
                "The state of each dependency: the store (pinged), the limits backend, the \
                 response cache and every provider deployment with its circuit. Not ready when \
                 the store does not answer or no model is routable.",
            )
            .access(Access::Public)
            .answer::<Readiness>(g, 200, "Ready.")
            .answer::<Readiness>(g, 503, "Not ready; `checks` says why."),
        Handler::Metrics => Operation::new("metrics", "Operations", "Prometheus metrics")
            .description(
                "The OpenMetrics 1.0 text format (which Prometheus reads). 404 when \
                 `[telemetry] metrics = false`.",
            )
            .access(Access::Public)
            .answer_with(200, "The metrics.", {
                // The media type the handler sets, without its parameters.
                let media = metrics::CONTENT_TYPE.split(';').next().unwrap_or_default();
                json!({ media: { "schema": { "type": "string" } } })
            })
            .errors(shape, &[404]),
        Handler::OpenApi => Operation::new("openapi", "Operations", "This document")
            .description("The OpenAPI 3.1 document of the gateway (also `docs/openapi.json`).")
            .access(Access::Public)
            .answer_with(
                200,
                "The document.",
                json!({ "application/json": { "schema": { "type": "object" } } }),
            ),
        Handler::Models => Operation::new("listModels", "Inference", "List models")
            .description("The public model names this caller may use.")
            .access(Access::Caller)
            .answer::<ModelList>(g, 200, "The models.")
            .errors(shape, &[401, 403, 429, 500, 503]),
        Handler::CountTokens(_) if shape == ErrorShape::Gemini => gemini::operation(route, g)
            .access(Access::Gemini)
            .errors(shape, &[400, 401, 403, 404, 408, 413, 429, 500, 503]),
        Handler::CountTokens(_) => Operation::new(
            "countMessageTokens",
            "Inference (Anthropic)",
            "Count the tokens of a Messages request",
        )
        .description("An estimate by the gateway; no upstream call. `max_tokens` is not needed.")
        .access(Access::Caller)
        .body::<MessagesRequest>(
            g,
            json!({ "model": "demo", "messages": [{ "role": "user", "content": "Hello" }] }),
        )
        .answer::<AnthropicTokenCount>(g, 200, "The count.")
        .errors(shape, &[400, 401, 403, 404, 408, 413, 429, 500, 503]),
        Handler::GuardrailsCheck => Operation::new(
            "checkGuardrails",
            "Guardrails",
            "Check a text against the caller's guardrails",
        )
        .description(
            "Runs the guardrails of the caller's tenant on `text` without calling a model, and \
             says what the gateway would do.",
        )
        .access(Access::Caller)
        .body::<CheckRequest>(
            g,
            json!({ "text": "My card is 4111 1111 1111 1111", "direction": "input" }),
        )
        .answer::<CheckResponse>(g, 200, "The verdict.")
        .errors(shape, CALLER_ERRORS),
        Handler::Feedback => Operation::new(
            "giveFeedback",
            "Feedback",
            "Rate one of the caller's calls",
        )
        .description(
            "Feedback on a call of the caller's tenant, named by its `x-request-id`: a score \
             from 0 to 1 or a thumb (`up`, `down`), tags and a comment. Another tenant's call \
             answers 404 like an unknown one; feedback given again replaces the earlier.",
        )
        .access(Access::Caller)
        .body::<FeedbackRequest>(
            g,
            json!({ "request_id": "0193f7a2-7c1e-7d4a-9b8e-3f1c2d4e5a6b", "score": "up", "tags": ["helpful"] }),
        )
        .answer::<FeedbackView>(g, 200, "The stored feedback.")
        .errors(shape, &[400, 401, 403, 404, 408, 413, 429, 500, 503]),
        Handler::UiRedirect => Operation::new(
            &console_id("consoleRedirect", route),
            "Console",
            "The web console: to its page",
        )
        .description("308 to `/ui/`. 404 when `[ui] enabled = false`.")
        .access(Access::Public)
        .answer_with(308, "To `/ui/`.", json!({}))
        .errors(shape, &[404]),
        Handler::UiPage => Operation::new(
            &console_id("consolePage", route),
            "Console",
            "The web console",
        )
        .description(
            "The console's page (it signs in with a key or the admin token itself). 404 when \
                 `[ui] enabled = false`.",
        )
        .access(Access::Public)
        .answer_with(
            200,
            "The page.",
            json!({ "text/html": { "schema": { "type": "string" } } }),
        )
        .answer_with(
            304,
            "The caller's copy is current (`If-None-Match`).",
            json!({}),
        )
        .errors(shape, &[404]),
        Handler::UiAsset => Operation::new(
            &console_id("consoleAsset", route),
            "Console",
            "A console asset",
        )
        .description(
            "A script, style sheet or icon of the console, by build fingerprint; cached for good.",
        )
        .access(Access::Public)
        .answer_with(
            200,
            "The asset.",
            json!({
                "text/javascript": { "schema": { "type": "string" } },
                "text/css": { "schema": { "type": "string" } },
                "image/svg+xml": { "schema": { "type": "string" } },
            }),
        )
        .answer_with(
            304,
            "The caller's copy is current (`If-None-Match`).",
            json!({}),
        )
        .errors(shape, &[404]),
        Handler::ResponseRetrieve => Operation::new("getResponse", "Inference", "Retrieve a stored response")
            .description("A response of the caller's tenant stored by `POST /v1/responses` (another tenant's id is a 404).")
            .access(Access::Caller)
            .answer::<ResponseObject>(g, 200, "The response.")
            .errors(shape, &[400, 401, 403, 404, 429, 500, 503]),
        Handler::ResponseDelete => Operation::new("deleteResponse", "Inference", "Delete a stored response")
            .access(Access::Caller)
            .answer::<ResponseDeleted>(g, 200, "Deleted.")
            .errors(shape, &[400, 401, 403, 404, 429, 500, 503]),
        Handler::ResponseInputItems => Operation::new("listResponseInputItems", "Inference", "List a stored response's input items")
            .access(Access::Caller)
            .query("limit", "Items per page.", json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 }))
            .query("order", "`desc` (default) or `asc`.", json!({ "type": "string", "enum": ["asc", "desc"] }))
            .query("after", "An item id: the page starts after it.", json!({ "type": "string" }))
            .answer::<ResponseInputItems>(g, 200, "A page of items.")
            .errors(shape, &[400, 401, 403, 404, 429, 500, 503]),
        Handler::Files(op) => files(op, g)
            .access(Access::Caller)
            .errors(shape, &[400, 401, 403, 404, 408, 413, 429, 500, 503]),
        Handler::Batches(op) => batches(op, g)
            .access(Access::Caller)
            .errors(shape, &[400, 401, 403, 404, 408, 413, 429, 500, 503]),
        Handler::AsyncJob(op) => super::async_wire::operation(op, g)
            .access(Access::Caller)
            .errors(shape, &[400, 401, 403, 404, 429, 500, 502, 503]),
        Handler::Model => Operation::new("getModel", "Inference", "Show a model")
            .description("A public model name this caller may use; 404 otherwise (unknown and forbidden look alike).")
            .access(Access::Caller)
            .resource_name("id", OPENAI_MODEL)
            .answer::<ModelInfo>(g, 200, "The model.")
            .errors(shape, &[401, 403, 404, 429, 500, 503]),
        Handler::GeminiModels => Operation::new("geminiListModels", "Inference (Gemini)", "List models (Gemini)")
            .description(
                "The public model names this caller may use (as `GET /v1/models`), as Google's \
                 `Model` objects (`name` is `models/{name}`), sorted by name, in pages: \
                 `nextPageToken` is the `pageToken` of the next page.",
            )
            .access(Access::Gemini)
            .query("pageSize", "Models per page (default 50; larger than 1000 is served as 1000).", json!({ "type": "integer", "minimum": 0 }))
            .query("pageToken", "The `nextPageToken` of the page before.", json!({ "type": "string" }))
            .answer::<GeminiModelList>(g, 200, "A page of models.")
            .errors(shape, &[400, 401, 403, 429, 500, 503]),
        Handler::GeminiModel => Operation::new("geminiGetModel", "Inference (Gemini)", "Show a model (Gemini)")
            .description("A public model name this caller may use, as Google's `Model`; 404 otherwise (unknown and forbidden look alike).")
            .access(Access::Gemini)
            .resource_name("model", gemini::GEMINI_MODEL)
            .answer::<GeminiModel>(g, 200, "The model.")
            .errors(shape, &[400, 401, 403, 404, 429, 500, 503]),
        Handler::ModelCall(_) if shape == ErrorShape::Gemini => gemini::operation(route, g)
            .access(Access::Gemini)
            .answer::<AsyncJobObject>(g, 202, ASYNC_ACCEPTED)
            .errors(shape, MODEL_CALL_ERRORS)
            .upstream_errors(g, shape),
        Handler::ModelCall(dialect) => model_call(dialect.endpoint(), g)?
            .access(Access::Caller)
            .answer::<AsyncJobObject>(g, 202, ASYNC_ACCEPTED)
            .errors(shape, MODEL_CALL_ERRORS)
            .upstream_errors(g, shape)
            .answer_headers(
                200,
                &[
                    "X-Gateway-Provider",
                    "X-Gateway-Model",
                    "X-Gateway-Attempts",
                    "X-Gateway-Cache",
                    "X-Gateway-Cost-Usd",
                ],
            ),
        #[allow(unreachable_patterns)] // handlers added later fall here until described
        _ => return None,
    };
    Some(op)
}

/// The `{id}` of `GET /v1/models/{id}`.
const OPENAI_MODEL: &str = "The gateway's public model name. It may contain `/` and `:` \
     (`/v1/models/ollama/llama3:8b` names `ollama/llama3:8b`), as they are or percent-encoded.";

/// The operations of the Files API.
fn files(op: FilesOp, g: &mut SchemaGenerator) -> Operation {
    match op {
        FilesOp::Upload => Operation::new("uploadFile", "Files", "Upload a file")
            .description("`multipart/form-data` with a `file` and `purpose` (`batch`); streamed to storage within the configured size limit.")
            .body_content(json!({
                "multipart/form-data": { "schema": {
                    "type": "object", "required": ["file", "purpose"],
                    "properties": {
                        "file": { "type": "string", "contentMediaType": "application/octet-stream" },
                        "purpose": { "type": "string", "enum": ["batch"] },
                    },
                } },
            }))
            .answer::<FileObject>(g, 200, "The stored file."),
        FilesOp::List => Operation::new("listFiles", "Files", "List files")
            .query("purpose", "Only files with this purpose.", json!({ "type": "string" }))
            .query("limit", "Files per page.", json!({ "type": "integer", "minimum": 1, "maximum": 10000 }))
            .query("after", "A file id: the page starts after it.", json!({ "type": "string" }))
            .query("order", "`desc` (default) or `asc` by creation time.", json!({ "type": "string", "enum": ["asc", "desc"] }))
            .answer::<FileList>(g, 200, "A page of files."),
        FilesOp::Get => Operation::new("getFile", "Files", "Show a file")
            .answer::<FileObject>(g, 200, "The file."),
        FilesOp::Content => Operation::new("getFileContent", "Files", "A file's content")
            .answer_with(200, "The bytes.", json!({ "application/octet-stream": { "schema": { "type": "string" } } })),
        FilesOp::Delete => Operation::new("deleteFile", "Files", "Delete a file")
            .answer::<FileDeleted>(g, 200, "Deleted."),
    }
}

/// The operations of the Batch API.
fn batches(op: BatchesOp, g: &mut SchemaGenerator) -> Operation {
    match op {
        BatchesOp::Create => Operation::new("createBatch", "Batches", "Create a batch")
            .description("Runs every line of an uploaded file (purpose `batch`) through the pipeline as the caller, in the background; the batch starts `validating`. See docs/batches.md.")
            .body::<CreateBatch>(g, json!({
                "input_file_id": "file-0193...", "endpoint": "/v1/chat/completions", "completion_window": "24h"
            }))
            .answer::<BatchObject>(g, 200, "The new batch."),
        BatchesOp::List => Operation::new("listBatches", "Batches", "List batches")
            .query("limit", "Batches per page.", json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 }))
            .query("after", "A batch id: the page starts after it (newest first).", json!({ "type": "string" }))
            .answer::<BatchList>(g, 200, "A page of batches."),
        BatchesOp::Get => Operation::new("getBatch", "Batches", "Show a batch")
            .answer::<BatchObject>(g, 200, "The batch, with its request counts."),
        BatchesOp::Cancel => Operation::new("cancelBatch", "Batches", "Cancel a batch")
            .description("Lines not yet run are not run; the batch ends `cancelled` with the files of the lines that ran.")
            .answer::<BatchObject>(g, 200, "The batch, `cancelling` (or already `cancelled`)."),
    }
}

/// The console answers HEAD like GET: one operation id per method.
fn console_id(base: &str, route: &Route) -> String {
    if route.method == http::Method::HEAD {
        format!("{base}Head")
    } else {
        base.to_owned()
    }
}

/// The operation of a model call, by its dialect's endpoint.
fn model_call(endpoint: Endpoint, g: &mut SchemaGenerator) -> Option<Operation> {
    let op = match endpoint {
        Endpoint::ChatCompletions => Operation::new(
            "createChatCompletion",
            "Inference",
            "Create a chat completion (OpenAI)",
        )
        .description(
            "OpenAI's chat completions, through the whole pipeline. With `stream: true` the \
             answer is server-sent events: one `data:` line per `chat.completion.chunk` \
             (`ChatChunk`), then `data: [DONE]`; an error after the first byte arrives as a \
             `data:` line with an error body.",
        )
        .body::<ChatRequest>(
            g,
            json!({ "model": "demo", "messages": [{ "role": "user", "content": "Hello" }] }),
        )
        .answer_with(200, "The completion, or its stream.", {
            let whole = g.subschema_for::<ChatResponse>().to_value();
            // A chunk, or the error that ended the stream after its first byte.
            let chunk = json!({ "anyOf": [
                g.subschema_for::<ChatChunk>().to_value(),
                g.subschema_for::<ErrorBody<'static>>().to_value(),
            ] });
            sse_or_json(whole, chunk, true)
        }),
        Endpoint::Embeddings => Operation::new(
            "createEmbeddings",
            "Inference",
            "Create embeddings (OpenAI)",
        )
        .body::<EmbeddingsRequest>(
            g,
            json!({ "model": "demo-embed", "input": ["first text", "second text"] }),
        )
        .answer::<EmbeddingsResponse>(g, 200, "The embeddings, in input order."),
        Endpoint::Messages => Operation::new(
            "createMessage",
            "Inference (Anthropic)",
            "Create a message (Anthropic)",
        )
        .description(
            "Anthropic's Messages API over any provider. With `stream: true` the answer is \
             Anthropic's server-sent events (`message_start`, `content_block_start`, \
             `content_block_delta`, `content_block_stop`, `message_delta`, `message_stop`, \
             `ping`, `error`).",
        )
        .body_schema(
            json!({
                "allOf": [g.subschema_for::<MessagesRequest>().to_value()],
                "required": ["max_tokens"],
            }),
            json!({
                "model": "demo", "max_tokens": 256,
                "messages": [{ "role": "user", "content": "Hello" }],
            }),
            true,
        )
        .answer_with(200, "The message, or its stream.", {
            let whole = g.subschema_for::<AnthropicMessageResponse>().to_value();
            let event = typed_event(Some(ANTHROPIC_EVENTS), &[]);
            sse_or_json(whole, event, false)
        }),
        Endpoint::Responses => Operation::new(
            "createResponse",
            "Inference",
            "Create a response (OpenAI Responses API)",
        )
        .description(
            "OpenAI's Responses API over any provider: instructions, input items, function \
                 tools, `text.format`, `previous_response_id` (stored per tenant unless `store` \
                 is false). With `stream: true` the answer is the typed event stream \
                 (`response.created`, `response.output_text.delta`, ..., `response.completed`).",
        )
        .body::<CreateResponse>(g, json!({ "model": "demo", "input": "Hello" }))
        .answer_with(200, "The response, or its event stream.", {
            let whole = g.subschema_for::<ResponseObject>().to_value();
            sse_or_json(whole, typed_event(None, &["sequence_number"]), false)
        }),
        Endpoint::Query => Operation::new("query", "Inference", "Ask a question (simple API)")
            .description(
                "The simple API: one prompt to the model `[query] model` names, one answer. It \
                 does not stream.",
            )
            .body::<Query>(
                g,
                json!({ "prompt": "What is an LLM gateway?", "max_tokens": 64 }),
            )
            .answer::<QueryResponse<'static>>(g, 200, "The answer, with where it came from."),
        #[allow(unreachable_patterns)] // endpoints added later fall here until described
        _ => return None,
    };
    Some(op)
}

/// A JSON answer, or server-sent events whose `data` is a JSON document `data` describes.
fn sse_or_json(whole: Value, data: Value, done_marker: bool) -> Value {
    json!({
        "application/json": { "schema": whole },
        "text/event-stream": { "schema": sse_event(data, done_marker) },
    })
}

/// One server-sent event as a client parses it (OpenAPI 3.1 describes an event stream by the
/// schema of one event): its name (`message` when the server sends none) and its `data`, a
/// JSON document, or with `done_marker` OpenAI's closing `[DONE]`.
pub(super) fn sse_event(data: Value, done_marker: bool) -> Value {
    let json_data = json!({ "contentMediaType": "application/json", "contentSchema": data });
    let data = if done_marker {
        json!({
            "type": "string",
            "if": { "const": "[DONE]" },
            "else": json_data,
        })
    } else {
        let mut data = json_data;
        data["type"] = json!("string");
        data
    };
    json!({
        "type": "object",
        "description": "One server-sent event.",
        "required": ["data"],
        "properties": {
            "event": { "type": "string" },
            "data": data,
            "id": { "type": "string" },
            "retry": { "type": "integer", "minimum": 0 },
        },
    })
}

/// The `data` of an event that names its type (`{"type": "...", ...}`).
fn typed_event(types: Option<&[&str]>, more_required: &[&str]) -> Value {
    let mut required = vec!["type"];
    required.extend_from_slice(more_required);
    let kind = match types {
        Some(types) => json!({ "type": "string", "enum": types }),
        None => json!({ "type": "string" }),
    };
    json!({ "type": "object", "required": required, "properties": { "type": kind } })
}
