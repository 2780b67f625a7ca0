//! The Gemini-native operations (`/v1beta/models/{model}:method`, also under `/v1/`): Google's
//! request bodies as the dialect reads them ([`crate::dialects::gemini`]'s types) and its
//! answers ([`super::gemini_wire`]), with examples.

use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Value, json};

use super::gemini_wire::{
    BatchEmbedContentsResponse, CountTokensResponse, EmbedContentResponse, GenerateContentResponse,
};
use super::inference::sse_event;
use super::operation::Operation;
use super::wire::GeminiError;
use crate::dialects::gemini::{
    BatchEmbedContentsRequest, CountTokensRequest, EmbedContentRequest, GenerateContentRequest,
};
use crate::http::routes::Route;

/// The `{model}` of the Gemini routes.
pub const GEMINI_MODEL: &str = "The gateway's public model name. It may contain `/` and `:` \
     (`models/ollama/llama3:8b:generateContent` names `ollama/llama3:8b`; the method follows the \
     last colon), as they are or percent-encoded.";

/// A `generateContent` request: a system instruction, a turn and generation settings.
fn generate_example() -> Value {
    json!({
        "systemInstruction": { "parts": [{ "text": "Answer in one sentence." }] },
        "contents": [{ "role": "user", "parts": [{ "text": "What is an LLM gateway?" }] }],
        "generationConfig": {
            "maxOutputTokens": 128,
            "temperature": 0.2,
            "thinkingConfig": { "thinkingBudget": 0 },
        },
    })
}

/// A `generateContent` answer.
fn answer_example() -> Value {
    json!({
        "candidates": [{
            "content": { "parts": [{ "text": "A proxy that secures and routes model calls." }], "role": "model" },
            "finishReason": "STOP",
            "index": 0,
        }],
        "usageMetadata": { "promptTokenCount": 14, "candidatesTokenCount": 9, "totalTokenCount": 23 },
        "modelVersion": "demo",
        "responseId": "chatcmpl-0193f2",
    })
}

/// A Gemini-native operation, named by its method and API version.
pub fn operation(route: &Route, g: &mut SchemaGenerator) -> Operation {
    let method = route.path.rsplit(':').next().unwrap_or_default();
    let version = if route.path.starts_with("/v1beta/") {
        ""
    } else {
        "V1"
    };
    let mut name = String::with_capacity(method.len());
    let mut chars = method.chars();
    if let Some(first) = chars.next() {
        name.extend(first.to_uppercase());
        name.extend(chars);
    }
    let op = Operation::new(
        &format!("gemini{name}{version}"),
        "Inference (Gemini)",
        &format!("Gemini `{method}`"),
    )
    .resource_name("model", GEMINI_MODEL);
    match method {
        "streamGenerateContent" => {
            let chunk = json!({ "anyOf": [schema::<GenerateContentResponse>(g), schema::<GeminiError>(g)] });
            op.description(
                "`generateContent`, streamed: each chunk is a `GenerateContentResponse` with \
                 the new parts; the last one has each candidate's `finishReason` and the \
                 `usageMetadata`. An error after the first chunk arrives as Google's error \
                 object in place of a chunk.",
            )
            .body::<GenerateContentRequest>(g, generate_example())
            .query(
                "alt",
                "`sse` for server-sent events; otherwise one JSON array of chunks.",
                json!({ "type": "string", "enum": ["sse"] }),
            )
            .answer_with(
                200,
                "The answer's chunks.",
                json!({
                    "text/event-stream": { "schema": sse_event(chunk.clone(), false) },
                    "application/json": { "schema": { "type": "array", "items": chunk } },
                }),
            )
        }
        "countTokens" => {
            let op = op
                .description(
                    "The gateway's estimate of the tokens of `contents` (or of a whole \
                     `generateContentRequest`); no upstream call.",
                )
                .body::<CountTokensRequest>(g, count_example());
            let schema = schema::<CountTokensResponse>(g);
            answer(op, schema, json!({ "totalTokens": 2 }))
        }
        "embedContent" => {
            let op = op
                .description("One embedding of the content's text parts (with any provider's embedding model).")
                .body::<EmbedContentRequest>(g, embed_example());
            let schema = schema::<EmbedContentResponse>(g);
            answer(
                op,
                schema,
                json!({ "embedding": { "values": [0.013, -0.021, 0.044] } }),
            )
        }
        "batchEmbedContents" => {
            let op = op
                .description("Embeddings of several contents, in order, in one upstream call.")
                .body::<BatchEmbedContentsRequest>(g, batch_example());
            let schema = schema::<BatchEmbedContentsResponse>(g);
            answer(
                op,
                schema,
                json!({ "embeddings": [{ "values": [0.013, -0.021] }, { "values": [0.032, 0.007] }] }),
            )
        }
        _ => {
            let op = op
                .description(
                    "Google's Gemini API over any provider, in Google's request and answer \
                     shapes: `contents`, `systemInstruction`, `tools` (function declarations), \
                     `toolConfig`, `generationConfig` (structured output with \
                     `responseMimeType` and `responseJsonSchema`, `thinkingConfig`), \
                     `safetySettings`. Fields are read in camelCase or snake_case, as Google \
                     reads them. The model is the path's `{model}`.",
                )
                .body::<GenerateContentRequest>(g, generate_example());
            let schema = schema::<GenerateContentResponse>(g);
            answer(op, schema, answer_example())
        }
    }
}

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    g.subschema_for::<T>().to_value()
}

/// A JSON answer with its schema and an example.
fn answer(op: Operation, schema: Value, example: Value) -> Operation {
    op.answer_with(
        200,
        "The answer.",
        json!({ "application/json": { "schema": schema, "example": example } }),
    )
}

fn count_example() -> Value {
    json!({ "contents": [{ "role": "user", "parts": [{ "text": "Hello" }] }] })
}

fn embed_example() -> Value {
    json!({
        "content": { "parts": [{ "text": "first text" }] },
        "taskType": "RETRIEVAL_DOCUMENT",
    })
}

fn batch_example() -> Value {
    json!({ "requests": [
        { "model": "models/demo-embed", "content": { "parts": [{ "text": "first" }] } },
        { "model": "models/demo-embed", "content": { "parts": [{ "text": "second" }] } },
    ] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_are_what_the_gateway_reads_and_writes() {
        let _: GenerateContentRequest =
            serde_json::from_value(generate_example()).expect("a request the dialect reads");
        let _: CountTokensRequest =
            serde_json::from_value(count_example()).expect("a request the dialect reads");
        let _: EmbedContentRequest =
            serde_json::from_value(embed_example()).expect("a request the dialect reads");
        let _: BatchEmbedContentsRequest =
            serde_json::from_value(batch_example()).expect("a request the dialect reads");
        let _: GenerateContentResponse =
            serde_json::from_value(answer_example()).expect("an answer of the schema");
    }
}
