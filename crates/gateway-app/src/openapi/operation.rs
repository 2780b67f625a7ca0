//! One operation of the document, built from typed schemas: what it takes, what it answers,
//! which errors in which shape, and who may call it.

use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::http::error::{ErrorBody, ErrorShape};

use super::wire::{AnthropicError, GeminiError};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential (health, readiness, metrics, this document).
    Public,
    /// A gateway API key or a JWT, in any of the accepted headers.
    Caller,
    /// The bootstrap admin token, or a key or JWT whose roles grant the permission.
    Admin,
    /// A caller of the Gemini routes, which also take Google's `?key=`.
    Gemini,
}

impl Access {
    fn security(self) -> Value {
        let caller = [
            json!({ "apiKey": [] }),
            json!({ "anthropicApiKey": [] }),
            json!({ "azureApiKey": [] }),
            json!({ "googleApiKey": [] }),
            json!({ "jwt": [] }),
        ];
        match self {
            Access::Public => json!([]),
            Access::Caller => Value::Array(caller.to_vec()),
            Access::Gemini => {
                let mut all = caller.to_vec();
                all.push(json!({ "googleKeyQuery": [] }));
                Value::Array(all)
            }
            Access::Admin => {
                let mut all = vec![json!({ "adminToken": [] })];
                all.extend(caller);
                Value::Array(all)
            }
        }
    }
}

/// The security schemes [`Access`] names.
pub fn security_schemes() -> Value {
    json!({
        "apiKey": {
            "type": "http", "scheme": "bearer",
            "description": "A gateway API key (`sk-gw-...`) in `Authorization: Bearer`.",
        },
        "anthropicApiKey": {
            "type": "apiKey", "in": "header", "name": "x-api-key",
            "description": "A gateway API key in `x-api-key`, as Anthropic SDKs send it.",
        },
        "azureApiKey": {
            "type": "apiKey", "in": "header", "name": "api-key",
            "description": "A gateway API key in `api-key`, as Azure OpenAI SDKs send it.",
        },
        "googleApiKey": {
            "type": "apiKey", "in": "header", "name": "x-goog-api-key",
            "description": "A gateway API key in `x-goog-api-key`, as Google's SDKs send it.",
        },
        "googleKeyQuery": {
            "type": "apiKey", "in": "query", "name": "key",
            "description": "A gateway API key in Google's `?key=` query parameter (Gemini routes only).",
        },
        "jwt": {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "A JWT from the configured issuer (`[auth.jwt]`), verified against its JWKS.",
        },
        "adminToken": {
            "type": "http", "scheme": "bearer",
            "description": "The bootstrap admin token (`[admin] token`). Keys and JWTs whose roles grant the permission are accepted too.",
        },
    })
}

/// The response headers every answer carries, and those of some.
pub fn headers() -> Value {
    let string = json!({ "type": "string" });
    let integer = json!({ "type": "integer", "minimum": 0 });
    json!({
        "X-Request-Id": { "description": "The request's id (the caller's `x-request-id` when printable, else a UUIDv7).", "schema": string },
        "Retry-After": { "description": "Seconds to wait before retrying.", "schema": integer },
        "Retry-After-Ms": { "description": "Milliseconds to wait before retrying.", "schema": integer },
        "WWW-Authenticate": { "description": "`Bearer`.", "schema": string },
        "X-Gateway-Provider": { "description": "The provider that answered.", "schema": string },
        "X-Gateway-Model": { "description": "The upstream model that answered.", "schema": string },
        "X-Gateway-Cache": { "description": "`hit` or `miss` when the response cache is on.", "schema": string },
        "X-Gateway-Attempts": { "description": "Upstream attempts the answer took, retries and fallbacks included (0: from the cache).", "schema": integer },
        "X-Gateway-Cost-Usd": {
            "description": "What the answer cost, in US dollars, as a decimal string (`0.0000123`; `0` for a cache hit), from the price table the usage accounting uses; absent when the model's price is unknown. Not on streams, whose cost is known only at their end: an OpenAI chat completion stream asked with `stream_options.include_usage` carries it as `x_gateway_cost_usd` in the chunk that brings the usage.",
            "schema": { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$" },
        },
    })
}

fn header_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/headers/{name}") })
}

/// The reason phrase of the statuses the gateway answers with.
fn reason(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed or invalid; the message says what to fix.",
        401 => "No credential, or one the gateway does not accept.",
        403 => "The credential may not do this.",
        404 => "Not found (or not visible to this caller).",
        408 => "The request body did not arrive in time.",
        413 => "The request body is larger than the server's limit.",
        422 => "A guardrail or policy blocked the request.",
        429 => "A rate limit, quota or budget was reached; retry after `Retry-After`.",
        500 => "The gateway failed; the message carries no internals.",
        502 => "The upstream provider failed.",
        503 => "Not available now (not ready, overloaded, or not configured).",
        504 => "The upstream provider did not answer in time.",
        _ => "Error.",
    }
}

/// The statuses of the gateway's own errors.
pub const ERROR_STATUSES: &[u16] = &[400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504];

fn error_response_name(shape: ErrorShape, status: u16) -> String {
    match shape {
        ErrorShape::OpenAi => format!("OpenAiError{status}"),
        ErrorShape::Anthropic => format!("AnthropicError{status}"),
        ErrorShape::Gemini => format!("GeminiError{status}"),
    }
}

fn error_schema(g: &mut SchemaGenerator, shape: ErrorShape) -> Value {
    match shape {
        ErrorShape::OpenAi => g.subschema_for::<ErrorBody<'static>>(),
        ErrorShape::Anthropic => g.subschema_for::<AnthropicError>(),
        ErrorShape::Gemini => g.subschema_for::<GeminiError>(),
    }
    .to_value()
}

/// `components.responses`: each error status in each shape, with its headers.
pub fn error_responses(g: &mut SchemaGenerator) -> Value {
    let mut out = Map::new();
    for shape in [
        ErrorShape::OpenAi,
        ErrorShape::Anthropic,
        ErrorShape::Gemini,
    ] {
        let schema = error_schema(g, shape);
        for &status in ERROR_STATUSES {
            let mut headers = Map::new();
            headers.insert("X-Request-Id".into(), header_ref("X-Request-Id"));
            match status {
                401 => {
                    headers.insert("WWW-Authenticate".into(), header_ref("WWW-Authenticate"));
                }
                429 | 503 => {
                    headers.insert("Retry-After".into(), header_ref("Retry-After"));
                    headers.insert("Retry-After-Ms".into(), header_ref("Retry-After-Ms"));
                }
                _ => {}
            }
            out.insert(
                error_response_name(shape, status),
                json!({
                    "description": reason(status),
                    "headers": headers,
                    "content": { "application/json": { "schema": schema } },
                }),
            );
        }
    }
    Value::Object(out)
}

/// An operation being described.
pub struct Operation {
    op: Map<String, Value>,
    parameters: Vec<Value>,
    responses: Map<String, Value>,
    /// Path parameters described otherwise than as one plain segment, by name.
    path_parameters: Map<String, Value>,
}

impl Operation {
    pub fn new(operation_id: &str, tag: &str, summary: &str) -> Self {
        let mut op = Map::new();
        op.insert("operationId".into(), operation_id.into());
        op.insert("tags".into(), json!([tag]));
        op.insert("summary".into(), summary.into());
        Operation {
            op,
            parameters: Vec::new(),
            responses: Map::new(),
            path_parameters: Map::new(),
        }
    }

    /// Path parameter `name` is a resource name (a model name): it may hold `/` and `:`, as they are
    /// or percent-encoded (the route table's [`resource_name`](crate::http::routes::Route)).
    pub fn resource_name(mut self, name: &str, description: &str) -> Self {
        self.path_parameters.insert(
            name.to_owned(),
            json!({
                "name": name, "in": "path", "required": true, "description": description,
                "schema": { "type": "string", "minLength": 1 },
            }),
        );
        self
    }

    pub fn description(mut self, text: &str) -> Self {
        self.op.insert("description".into(), text.into());
        self
    }

    pub fn access(mut self, access: Access) -> Self {
        self.op.insert("security".into(), access.security());
        self
    }

    /// A JSON body of type `T`, with an example.
    pub fn body<T: JsonSchema>(self, g: &mut SchemaGenerator, example: Value) -> Self {
        let schema = g.subschema_for::<T>().to_value();
        self.body_schema(schema, example, true)
    }

    /// A JSON body described by `schema`; `required: false` for action endpoints that take an
    /// empty body as `{}`.
    pub fn body_schema(mut self, schema: Value, example: Value, required: bool) -> Self {
        self.op.insert(
            "requestBody".into(),
            json!({
                "required": required,
                "content": { "application/json": { "schema": schema, "example": example } },
            }),
        );
        self
    }

    /// A required body with the given `content` map (media type -> media type object).
    pub fn body_content(mut self, content: Value) -> Self {
        self.op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": content }),
        );
        self
    }

    /// A query parameter.
    pub fn query(mut self, name: &str, description: &str, schema: Value) -> Self {
        self.parameters.push(json!({
            "name": name, "in": "query", "required": false,
            "description": description, "schema": schema,
        }));
        self
    }

    /// A JSON answer of type `T`.
    pub fn answer<T: JsonSchema>(
        self,
        g: &mut SchemaGenerator,
        status: u16,
        description: &str,
    ) -> Self {
        let schema = g.subschema_for::<T>().to_value();
        self.answer_with(
            status,
            description,
            json!({ "application/json": { "schema": schema } }),
        )
    }

    /// An answer with the given `content` map (media type -> media type object).
    pub fn answer_with(mut self, status: u16, description: &str, content: Value) -> Self {
        self.responses.insert(
            status.to_string(),
            json!({
                "description": description,
                "headers": { "X-Request-Id": header_ref("X-Request-Id") },
                "content": content,
            }),
        );
        self
    }

    /// Adds headers to the answer of `status` (described before).
    pub fn answer_headers(mut self, status: u16, names: &[&str]) -> Self {
        if let Some(headers) = self
            .responses
            .get_mut(&status.to_string())
            .and_then(|r| r.get_mut("headers"))
            .and_then(Value::as_object_mut)
        {
            for name in names {
                headers.insert((*name).to_owned(), header_ref(name));
            }
        }
        self
    }

    /// OpenAPI links from the answer of `status` to other operations (stateful testing and
    /// client generators follow them): `(name, operationId, {parameter: expression})`.
    pub fn links(mut self, status: u16, links: &[(&str, &str, Value)]) -> Self {
        if let Some(response) = self
            .responses
            .get_mut(&status.to_string())
            .and_then(Value::as_object_mut)
        {
            let map: Map<String, Value> = links
                .iter()
                .map(|(name, id, params)| {
                    (
                        (*name).to_owned(),
                        json!({ "operationId": id, "parameters": params }),
                    )
                })
                .collect();
            response.insert("links".into(), Value::Object(map));
        }
        self
    }

    /// The error answers, in the route's error shape (references to [`error_responses`]).
    pub fn errors(mut self, shape: ErrorShape, statuses: &[u16]) -> Self {
        for &status in statuses {
            self.responses.insert(
                status.to_string(),
                json!({ "$ref": format!("#/components/responses/{}", error_response_name(shape, status)) }),
            );
        }
        self
    }

    /// Any other status in the error shape: an upstream's own error status, passed through.
    pub fn upstream_errors(mut self, g: &mut SchemaGenerator, shape: ErrorShape) -> Self {
        let schema = error_schema(g, shape);
        self.responses.insert(
            "default".into(),
            json!({
                "description": "Another error status, passed through from the upstream provider.",
                "content": { "application/json": { "schema": schema } },
            }),
        );
        self
    }

    /// The finished operation object for `path` (its `{name}` segments become path
    /// parameters).
    pub fn finish(mut self, path: &str) -> Value {
        let mut parameters: Vec<Value> = path_parameters(path)
            .map(|name| {
                self.path_parameters.remove(name).unwrap_or_else(|| {
                    json!({
                        "name": name, "in": "path", "required": true,
                        "schema": { "type": "string", "minLength": 1, "pattern": "^[^/:]+$" },
                    })
                })
            })
            .collect();
        parameters.append(&mut self.parameters);
        if !parameters.is_empty() {
            self.op
                .insert("parameters".into(), Value::Array(parameters));
        }
        self.op
            .insert("responses".into(), Value::Object(self.responses));
        Value::Object(self.op)
    }
}

/// The names of the `{name}` parameters of a route pattern, in order.
pub fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|segment| {
        segment
            .strip_prefix('{')
            .and_then(|rest| rest.split_once('}'))
            .map(|(name, _)| name)
    })
}
