//! The route table: the one list of what the edge serves. Dispatch, the 405 answers, metric
//! labels, span names and the error shape of each path all read it; nothing else spells a
//! path.
//!
//! A path is a pattern: a segment `{name}` matches one non-empty path segment, and a segment
//! may end with a literal suffix after the parameter (`{model}:generateContent`, Google's
//! custom-method form). Such parameters never contain `/` or `:`, except on the model routes
//! (Gemini's and `GET /v1/models/{id}`), whose last parameter is a resource name
//! ([`Route::resource_name`]): `models/ollama/llama3:8b` is the model `ollama/llama3:8b`, the
//! method being what follows the last colon. The pattern itself is the route's metric label, so
//! ids in paths never become label values.

use gateway_auth::Permission;
use http::Method;

use crate::dialects::Dialect;
use crate::dialects::anthropic::AnthropicMessages;
use crate::dialects::gemini::{GeminiCountTokens, GeminiMethod};
use crate::dialects::openai::{OpenAiChat, OpenAiEmbeddings};
use crate::dialects::query::QueryApi;
use crate::dialects::responses::ResponsesApi;
use crate::http::async_jobs::AsyncOp;
use crate::http::batches::BatchesOp;
use crate::http::count_tokens::{AnthropicCountTokens, TokenCountApi};
use crate::http::error::ErrorShape;
use crate::http::files::FilesOp;

/// What serves a route.
#[derive(Clone, Copy)]
pub enum Handler {
    Health,
    Ready,
    Metrics,
    Models,
    /// One model of the list (`{id}`).
    Model,
    /// A model call in a dialect, through the one model-call handler.
    ModelCall(&'static dyn Dialect),
    /// A token count, answered by the gateway.
    CountTokens(&'static dyn TokenCountApi),
    GuardrailsCheck,
    /// `POST /v1/feedback`: the caller rates one of its calls ([`crate::http::feedback`]).
    Feedback,
    /// The web console ([`crate::http::ui`]): `/ui` redirects to the page, `/ui/` is the page.
    UiRedirect,
    UiPage,
    /// `/ui/assets/{file}` (fingerprinted names).
    UiAsset,
    /// `GET /v1/responses/{id}`: a stored response of the caller's tenant.
    ResponseRetrieve,
    /// `DELETE /v1/responses/{id}`.
    ResponseDelete,
    /// `GET /v1/responses/{id}/input_items`.
    ResponseInputItems,
    /// The Files API ([`crate::http::files`]).
    Files(FilesOp),
    /// The Batch API ([`crate::http::batches`]).
    Batches(BatchesOp),
    /// An asynchronous call's job ([`crate::http::async_jobs`]).
    AsyncJob(AsyncOp),
    /// The OpenAPI document ([`crate::openapi`]).
    OpenApi,
    /// `GET /v1beta/models`: the caller's models as Gemini `Model` objects, paged.
    GeminiModels,
    /// `GET /v1beta/models/{model}`: one of them.
    GeminiModel,
}

/// What a caller must hold to reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential is read: probes, metrics (guarded by their own setting), the OpenAPI
    /// document and the console's static files (the console calls the admin API, which checks
    /// its own permissions).
    Public,
    /// The caller is authenticated and must be granted this permission on its own tenant
    /// ([`gateway_auth::authorize`]); [`crate::http::inbound::Inbound::authenticate_token`]
    /// checks it, so no handler can authenticate without it.
    Requires(Permission),
}

impl Handler {
    /// What a caller of this handler must hold. Exhaustive on purpose: a new handler does not
    /// compile until it says, and `tests/call_permissions.rs` calls every route of the table
    /// with every role.
    ///
    /// Everything a model-calling application uses needs [`Permission::CallModels`]: the calls
    /// themselves, the models they may name, token counts and guardrail checks (both read the
    /// caller's model and content), stored responses, files and batches. Reading one's own
    /// stored responses, files and batches needs it too: they hold prompts and completions,
    /// which are content, not the usage numbers `read_usage` grants. So does reading or
    /// cancelling an asynchronous call's job (its answer is content too).
    pub fn access(self) -> Access {
        match self {
            Handler::Health
            | Handler::Ready
            | Handler::Metrics
            | Handler::OpenApi
            | Handler::UiRedirect
            | Handler::UiPage
            | Handler::UiAsset => Access::Public,
            Handler::Models
            | Handler::Model
            | Handler::ModelCall(_)
            | Handler::CountTokens(_)
            | Handler::GuardrailsCheck
            | Handler::Feedback
            | Handler::ResponseRetrieve
            | Handler::ResponseDelete
            | Handler::ResponseInputItems
            | Handler::Files(_)
            | Handler::Batches(_)
            | Handler::AsyncJob(_)
            | Handler::GeminiModels
            | Handler::GeminiModel => Access::Requires(Permission::CallModels),
        }
    }
}

/// One method on one path.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub handler: Handler,
    /// The shape of the errors callers of this path expect.
    pub errors: ErrorShape,
    /// The last parameter is a Google resource name: it spans the rest of the path (`/` and
    /// `:` included, and their `%2F` / `%3A` encodings, decoded) up to the route's `:method`
    /// suffix, which follows the path's last colon. A route of this kind without a suffix
    /// (`/v1beta/models/{model}`, `/v1/models/{id}`) is a catch-all: it is chosen only when no
    /// other route knows the path.
    pub resource_name: bool,
    /// Length of the literal text before the first parameter (the whole path when there is
    /// none), computed with the table: a path that does not start with it is rejected by one
    /// comparison, without splitting either into segments.
    literal_len: usize,
}

/// Where the first parameter of `path` starts, or its length when it has none.
const fn literal_len(path: &str) -> usize {
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

const fn route(method: Method, path: &'static str, handler: Handler) -> Route {
    Route {
        method,
        path,
        handler,
        errors: ErrorShape::OpenAi,
        resource_name: false,
        literal_len: literal_len(path),
    }
}

/// An OpenAI route whose last parameter is a resource name: a model id such as
/// `ollama/llama3:8b` or `ft:gpt-4o-mini:org::id`, as it is or percent-encoded.
const fn openai_resource(method: Method, path: &'static str, handler: Handler) -> Route {
    Route {
        method,
        path,
        handler,
        errors: ErrorShape::OpenAi,
        resource_name: true,
        literal_len: literal_len(path),
    }
}

const fn anthropic(method: Method, path: &'static str, handler: Handler) -> Route {
    Route {
        method,
        path,
        handler,
        errors: ErrorShape::Anthropic,
        resource_name: false,
        literal_len: literal_len(path),
    }
}

const fn gemini(path: &'static str, handler: Handler) -> Route {
    gemini_on(Method::POST, path, handler)
}

const fn gemini_on(method: Method, path: &'static str, handler: Handler) -> Route {
    Route {
        method,
        path,
        handler,
        errors: ErrorShape::Gemini,
        resource_name: true,
        literal_len: literal_len(path),
    }
}

/// Every route outside the admin API (which routes under [`ADMIN_PREFIX`] itself).
pub static ROUTES: [Route; 46] = [
    route(Method::GET, "/health", Handler::Health),
    route(Method::GET, "/ready", Handler::Ready),
    route(Method::GET, "/metrics", Handler::Metrics),
    route(Method::GET, "/openapi.json", Handler::OpenApi),
    route(Method::GET, "/v1/models", Handler::Models),
    openai_resource(Method::GET, "/v1/models/{id}", Handler::Model),
    route(
        Method::POST,
        "/v1/chat/completions",
        Handler::ModelCall(&OpenAiChat),
    ),
    route(
        Method::POST,
        "/v1/embeddings",
        Handler::ModelCall(&OpenAiEmbeddings),
    ),
    anthropic(
        Method::POST,
        "/v1/messages",
        Handler::ModelCall(&AnthropicMessages),
    ),
    anthropic(
        Method::POST,
        "/v1/messages/count_tokens",
        Handler::CountTokens(&AnthropicCountTokens),
    ),
    route(Method::POST, "/query", Handler::ModelCall(&QueryApi)),
    route(
        Method::POST,
        "/v1/guardrails/check",
        Handler::GuardrailsCheck,
    ),
    route(Method::POST, "/v1/feedback", Handler::Feedback),
    route(Method::POST, "/v1/files", Handler::Files(FilesOp::Upload)),
    route(Method::GET, "/v1/files", Handler::Files(FilesOp::List)),
    route(Method::GET, "/v1/files/{id}", Handler::Files(FilesOp::Get)),
    route(
        Method::DELETE,
        "/v1/files/{id}",
        Handler::Files(FilesOp::Delete),
    ),
    route(
        Method::GET,
        "/v1/files/{id}/content",
        Handler::Files(FilesOp::Content),
    ),
    route(
        Method::POST,
        "/v1/batches",
        Handler::Batches(BatchesOp::Create),
    ),
    route(
        Method::GET,
        "/v1/batches",
        Handler::Batches(BatchesOp::List),
    ),
    route(
        Method::GET,
        "/v1/batches/{id}",
        Handler::Batches(BatchesOp::Get),
    ),
    route(
        Method::POST,
        "/v1/batches/{id}/cancel",
        Handler::Batches(BatchesOp::Cancel),
    ),
    route(
        Method::GET,
        "/v1/async/{id}",
        Handler::AsyncJob(AsyncOp::Get),
    ),
    route(
        Method::DELETE,
        "/v1/async/{id}",
        Handler::AsyncJob(AsyncOp::Cancel),
    ),
    // The console answers HEAD as GET (hyper sends no body for HEAD).
    route(Method::GET, "/ui", Handler::UiRedirect),
    route(Method::HEAD, "/ui", Handler::UiRedirect),
    route(Method::GET, "/ui/", Handler::UiPage),
    route(Method::HEAD, "/ui/", Handler::UiPage),
    route(Method::GET, "/ui/assets/{file}", Handler::UiAsset),
    route(Method::HEAD, "/ui/assets/{file}", Handler::UiAsset),
    route(
        Method::POST,
        "/v1/responses",
        Handler::ModelCall(&ResponsesApi),
    ),
    route(Method::GET, "/v1/responses/{id}", Handler::ResponseRetrieve),
    route(
        Method::DELETE,
        "/v1/responses/{id}",
        Handler::ResponseDelete,
    ),
    route(
        Method::GET,
        "/v1/responses/{id}/input_items",
        Handler::ResponseInputItems,
    ),
    // Google's Gemini API: `v1beta` (what the SDKs use by default) and `v1`.
    gemini_on(Method::GET, "/v1beta/models", Handler::GeminiModels),
    gemini_on(Method::GET, "/v1beta/models/{model}", Handler::GeminiModel),
    gemini(
        "/v1beta/models/{model}:generateContent",
        Handler::ModelCall(&GeminiMethod::GenerateContent),
    ),
    gemini(
        "/v1beta/models/{model}:streamGenerateContent",
        Handler::ModelCall(&GeminiMethod::StreamGenerateContent),
    ),
    gemini(
        "/v1beta/models/{model}:countTokens",
        Handler::CountTokens(&GeminiCountTokens),
    ),
    gemini(
        "/v1beta/models/{model}:embedContent",
        Handler::ModelCall(&GeminiMethod::EmbedContent),
    ),
    gemini(
        "/v1beta/models/{model}:batchEmbedContents",
        Handler::ModelCall(&GeminiMethod::BatchEmbedContents),
    ),
    gemini(
        "/v1/models/{model}:generateContent",
        Handler::ModelCall(&GeminiMethod::GenerateContent),
    ),
    gemini(
        "/v1/models/{model}:streamGenerateContent",
        Handler::ModelCall(&GeminiMethod::StreamGenerateContent),
    ),
    gemini(
        "/v1/models/{model}:countTokens",
        Handler::CountTokens(&GeminiCountTokens),
    ),
    gemini(
        "/v1/models/{model}:embedContent",
        Handler::ModelCall(&GeminiMethod::EmbedContent),
    ),
    gemini(
        "/v1/models/{model}:batchEmbedContents",
        Handler::ModelCall(&GeminiMethod::BatchEmbedContents),
    ),
];

/// The admin API's prefix; its own router takes it from there.
pub const ADMIN_PREFIX: &str = "/admin/v1/";

/// The label of every admin path (one, so that ids in paths never become label values).
pub const ADMIN_LABEL: &str = "/admin/v1";

/// The label of a path outside the table.
pub const OTHER_LABEL: &str = "other";

/// Where a request goes.
pub enum Found {
    /// The route, with the values of its path parameters in pattern order.
    Route(&'static Route, PathParams),
    /// The path exists, not with this method (405).
    WrongMethod,
    Admin,
    Unknown,
}

/// The values of a route's path parameters, in the order of the pattern (none for most
/// routes, which then allocate nothing).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PathParams(Vec<Box<str>>);

impl PathParams {
    /// The `index`-th parameter of the pattern.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.0.get(index).map(|v| &**v)
    }

    /// Every parameter, in pattern order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|v| &**v)
    }

    /// Parameters as [`PathParams::values`] listed them (a stored call, run later).
    pub fn from_values<I: IntoIterator<Item = String>>(values: I) -> Self {
        PathParams(values.into_iter().map(String::into_boxed_str).collect())
    }
}

/// One lookup of a request in the table: where it goes, its fixed label (for metrics and
/// span names, never the raw path) and the shape its errors take.
pub struct Lookup {
    pub found: Found,
    pub label: &'static str,
    pub errors: ErrorShape,
}

impl Lookup {
    /// The permission an authenticated caller of this request needs: its route's, and
    /// [`Permission::CallModels`] wherever the table says nothing (a request that reaches no
    /// route never authenticates; should one, it fails closed). The admin API checks its own.
    pub fn permission(&self) -> Permission {
        match &self.found {
            Found::Route(route, _) => match route.handler.access() {
                Access::Requires(permission) => permission,
                Access::Public => Permission::CallModels,
            },
            Found::WrongMethod | Found::Admin | Found::Unknown => Permission::CallModels,
        }
    }
}

/// Looks `method` and `path` up in the table, once per request.
pub fn lookup(method: &Method, path: &str) -> Lookup {
    let mut known: Option<&'static Route> = None;
    let mut catch_all: Option<(&'static Route, PathParams)> = None;
    for route in &ROUTES {
        if route.is_catch_all() {
            // Last resort: `GET /v1beta/models/x:generateContent` is the wrong method on a
            // known path (405), not the model `x:generateContent`.
            if route.method == method {
                if catch_all.is_none() {
                    catch_all = route.matches(path).map(|params| (route, params));
                }
            } else if route.other_methods_know(path) {
                known.get_or_insert(route);
            }
            continue;
        }
        if let Some(params) = route.matches(path) {
            if route.method == method {
                return Lookup {
                    found: Found::Route(route, params),
                    label: route.path,
                    errors: route.errors,
                };
            }
            known.get_or_insert(route);
        }
    }
    if let Some(route) = known {
        Lookup {
            found: Found::WrongMethod,
            label: route.path,
            errors: route.errors,
        }
    } else if let Some((route, params)) = catch_all {
        Lookup {
            found: Found::Route(route, params),
            label: route.path,
            errors: route.errors,
        }
    } else if path.starts_with(ADMIN_PREFIX) {
        Lookup {
            found: Found::Admin,
            label: ADMIN_LABEL,
            errors: ErrorShape::OpenAi,
        }
    } else {
        Lookup {
            found: Found::Unknown,
            label: OTHER_LABEL,
            errors: unknown_path_errors(path),
        }
    }
}

impl Route {
    /// The parameters of `path` when it is this route's.
    fn matches(&self, path: &str) -> Option<PathParams> {
        if self.literal_len == self.path.len() {
            return (self.path == path).then(PathParams::default);
        }
        if !self.starts(path) {
            return None;
        }
        if self.resource_name {
            matches_resource_name(self.path, path)
        } else {
            matches(self.path, path)
        }
    }

    /// A route whose resource name ends the path with no method after it.
    fn is_catch_all(&self) -> bool {
        self.resource_name && self.path.ends_with('}')
    }

    /// Whether another method on `path` finds this catch-all's path known (a 405). On OpenAI's
    /// `/v1/models/{id}` a one-segment id is, as before ids could hold `/` and `:`
    /// (`DELETE /v1/models/m`); anything longer may be another API's path
    /// (`POST /v1/models/m:predict` is an unknown Google method) and stays unknown. Google's
    /// front end answers an unserved method on a model with 404, so its catch-all knows none.
    fn other_methods_know(&self, path: &str) -> bool {
        self.errors != ErrorShape::Gemini && self.starts(path) && matches(self.path, path).is_some()
    }

    /// Whether `path` starts with this route's literal text before its first parameter.
    fn starts(&self, path: &str) -> bool {
        path.as_bytes()
            .starts_with(&self.path.as_bytes()[..self.literal_len])
    }
}

/// Every path under it is Google's (`/v1beta/tunedModels/...` too, which the gateway does not
/// serve).
const GEMINI_PREFIX: &str = "/v1beta/";

/// The error shape of a path outside the table: that of the route the path extends furthest
/// (an unknown `/v1/messages/...` path answers like `/v1/messages`, an unknown Google method
/// `/v1beta/models/m:other` like the Gemini routes), else OpenAI's.
fn unknown_path_errors(path: &str) -> ErrorShape {
    if path.starts_with(GEMINI_PREFIX) {
        return ErrorShape::Gemini;
    }
    ROUTES
        .iter()
        .filter_map(|r| extended_prefix(r.path, path).map(|len| (len, r.errors)))
        .max_by_key(|(len, _)| *len)
        .map_or(ErrorShape::OpenAi, |(_, errors)| errors)
}

/// How much of `pattern` `path` extends: all of a fixed pattern it starts with; the literal
/// prefix of a pattern with a parameter when the rest of the path is of the same kind (a
/// Google custom method after a `:`, or not).
fn extended_prefix(pattern: &str, path: &str) -> Option<usize> {
    match pattern.split_once('{') {
        None => path.starts_with(pattern).then_some(pattern.len()),
        Some((prefix, rest)) => {
            let tail = path.strip_prefix(prefix)?;
            (tail.contains(':') == rest.contains(':')).then_some(prefix.len())
        }
    }
}

/// The parameters of `path` when it matches `pattern`, whose last parameter is a resource
/// name ([`Route::resource_name`]). The name may be empty (`models/:generateContent`): the
/// handler refuses it with a 400 that says so, rather than an unknown path.
fn matches_resource_name(pattern: &str, path: &str) -> Option<PathParams> {
    let Some((prefix, rest)) = pattern.split_once('{') else {
        return (pattern == path).then(PathParams::default);
    };
    let (_, suffix) = rest.split_once('}')?;
    let tail = path.strip_prefix(prefix)?;
    let raw = match suffix.strip_prefix(':') {
        Some(method) => {
            let (name, got) = tail.rsplit_once(':')?;
            (got == method).then_some(name)?
        }
        None => tail,
    };
    let name = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    Some(PathParams(vec![name.into()]))
}

/// The parameters of `path` when it matches `pattern`.
pub(crate) fn matches(pattern: &str, path: &str) -> Option<PathParams> {
    if !pattern.contains('{') {
        return (pattern == path).then(PathParams::default);
    }
    let mut params = Vec::new();
    let mut pattern_segments = pattern.split('/');
    let mut path_segments = path.split('/');
    loop {
        match (pattern_segments.next(), path_segments.next()) {
            (None, None) => return Some(PathParams(params)),
            (Some(want), Some(got)) => match want.strip_prefix('{') {
                None if want == got => {}
                None => return None,
                Some(rest) => {
                    let (_, suffix) = rest.split_once('}')?;
                    let value = got.strip_suffix(suffix)?;
                    if value.is_empty() || value.contains(':') {
                        return None;
                    }
                    params.push(value.into());
                }
            },
            _ => return None,
        }
    }
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
