//! The gateway's OpenAPI 3.1 document, generated — never written by hand — from the two route
//! tables ([`ROUTES`] and [`ADMIN_ROUTES`]) and the wire types (their `schemars` JSON Schemas,
//! draft 2020-12, the dialect of OpenAPI 3.1).
//!
//! Served at `GET /openapi.json` and committed as `docs/openapi.json` (`cargo xtask openapi`
//! writes it; a test fails when the two differ). Each route's operation is described in
//! [`inference`] (the edge's table) or [`admin`] (the admin API's); a test fails, naming the
//! route, when a routed path is missing from the document or a documented path is not routed.

mod admin;
mod async_wire;
mod batch_wire;
mod gemini;
mod gemini_wire;
mod inference;
mod operation;
mod wire;

#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use bytes::Bytes;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::http::admin::routes::ADMIN_ROUTES;
use crate::http::routes::ROUTES;

/// Where the committed copy lives, from the workspace root.
pub const COMMITTED_PATH: &str = "docs/openapi.json";

/// The document, as a JSON value.
pub fn document() -> Value {
    let mut g = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let mut paths: Map<String, Value> = Map::new();
    for route in &ROUTES {
        // Routes without an operation are left out; the coverage test names them.
        if let Some(op) = inference::describe(route, &mut g) {
            add(
                &mut paths,
                route.path,
                route.method.as_str(),
                op.finish(route.path),
            );
        }
    }
    for route in &ADMIN_ROUTES {
        let op = admin::describe(route, &mut g).finish(route.path);
        add(&mut paths, route.path, route.method.as_str(), op);
    }
    let responses = operation::error_responses(&mut g);
    let schemas: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "LLM Secure Gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "One guarded edge in front of LLM providers: OpenAI and Anthropic compatible inference, guardrails, and the admin API.",
            "description": "Generated from the gateway's route tables and wire types. Errors use OpenAI's shape `{\"error\": {...}}`, except on Anthropic paths (`/v1/messages...`), which use Anthropic's `{\"type\": \"error\", \"error\": {...}}`. See docs/api.md and docs/admin.md.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [{ "url": "http://localhost:8080", "description": "The default listener." }],
        "tags": [
            { "name": "Inference", "description": "OpenAI-compatible model calls and the simple API." },
            { "name": "Inference (Anthropic)", "description": "Anthropic-compatible model calls." },
            { "name": "Inference (Gemini)", "description": "Gemini-compatible model calls (`/v1beta/models/{model}:...`, also under `/v1/`)." },
            { "name": "Files", "description": "OpenAI's Files API, per tenant (batch inputs and outputs)." },
            { "name": "Batches", "description": "OpenAI's Batch API, per tenant: every line through the pipeline, durable across restarts." },
            { "name": "Async calls", "description": "Model calls sent with `Prefer: respond-async`: their state and answers (docs/async.md)." },
            { "name": "Guardrails", "description": "Guardrail checks without a model call." },
            { "name": "Operations", "description": "Health, readiness, metrics, this document." },
            { "name": "Admin: tenants" },
            { "name": "Admin: keys" },
            { "name": "Admin: reports", "description": "Usage and audit." },
            { "name": "Admin: operations", "description": "Deployments and the response cache." },
            { "name": "Admin: webhooks", "description": "Signed webhook endpoints of a tenant, their delivery log and redelivery (docs/webhooks.md)." },
            { "name": "Admin: console", "description": "What the web console needs: the caller, the configuration, guardrail checks for a tenant." },
            { "name": "Console", "description": "The web console (`/ui/`)." },
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": operation::security_schemes(),
            "headers": operation::headers(),
        },
    })
}

fn add(paths: &mut Map<String, Value>, path: &str, method: &str, op: Value) {
    let item = paths
        .entry(path.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(item) = item {
        item.insert(method.to_ascii_lowercase(), op);
    }
}

/// The document as `docs/openapi.json` holds it: pretty-printed, with a final newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

/// The bytes `GET /openapi.json` answers with, built once.
pub fn served() -> Bytes {
    static BYTES: OnceLock<Bytes> = OnceLock::new();
    BYTES
        .get_or_init(|| Bytes::from(serde_json::to_vec(&document()).unwrap_or_default()))
        .clone()
}
