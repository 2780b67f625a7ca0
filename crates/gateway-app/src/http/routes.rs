//! The route table: the one list of what the edge serves. Dispatch, the 405 answers, metric
//! labels, span names and the error shape of each path all read it; nothing else spells a
//! path.
//!
//! A path is a pattern: a segment `{name}` matches one non-empty path segment, and a segment
//! may end with a literal suffix after the parameter (`{model}:generateContent`, Google's
//! custom-method form). Parameters never contain `/` or `:`. The pattern itself is the route's
//! metric label, so ids in paths never become label values.

use http::Method;

use crate::dialects::Dialect;
use crate::dialects::anthropic::AnthropicMessages;
use crate::dialects::gemini::{GeminiCountTokens, GeminiMethod};
use crate::dialects::openai::{OpenAiChat, OpenAiEmbeddings};
use crate::dialects::query::QueryApi;
use crate::dialects::responses::ResponsesApi;
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
    /// The OpenAPI document ([`crate::openapi`]).
    OpenApi,
}

/// One method on one path.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub handler: Handler,
    /// The shape of the errors callers of this path expect.
    pub errors: ErrorShape,
}

const fn route(method: Method, path: &'static str, handler: Handler) -> Route {
    Route {
        method,
        path,
        handler,
        errors: ErrorShape::OpenAi,
    }
}

const fn anthropic(method: Method, path: &'static str, handler: Handler) -> Route {
    Route {
        method,
        path,
        handler,
        errors: ErrorShape::Anthropic,
    }
}

const fn gemini(path: &'static str, handler: Handler) -> Route {
    Route {
        method: Method::POST,
        path,
        handler,
        errors: ErrorShape::Gemini,
    }
}

/// Every route outside the admin API (which routes under [`ADMIN_PREFIX`] itself).
pub static ROUTES: [Route; 41] = [
    route(Method::GET, "/health", Handler::Health),
    route(Method::GET, "/ready", Handler::Ready),
    route(Method::GET, "/metrics", Handler::Metrics),
    route(Method::GET, "/openapi.json", Handler::OpenApi),
    route(Method::GET, "/v1/models", Handler::Models),
    route(Method::GET, "/v1/models/{id}", Handler::Model),
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
}

/// One lookup of a request in the table: where it goes, its fixed label (for metrics and
/// span names, never the raw path) and the shape its errors take.
pub struct Lookup {
    pub found: Found,
    pub label: &'static str,
    pub errors: ErrorShape,
}

/// Looks `method` and `path` up in the table, once per request.
pub fn lookup(method: &Method, path: &str) -> Lookup {
    let mut known: Option<&'static Route> = None;
    for route in &ROUTES {
        if let Some(params) = matches(route.path, path) {
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

/// The error shape of a path outside the table: that of the route the path extends furthest
/// (an unknown `/v1/messages/...` path answers like `/v1/messages`, an unknown Google method
/// `/v1beta/models/m:other` like the Gemini routes), else OpenAI's.
fn unknown_path_errors(path: &str) -> ErrorShape {
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
mod tests {
    use super::*;

    #[test]
    fn every_route_is_found_by_its_method_and_labelled_by_its_path() {
        for route in &ROUTES {
            let path = example_path(route.path);
            let found = lookup(&route.method, &path);
            assert!(
                matches!(found.found, Found::Route(r, _) if std::ptr::eq(r, route)),
                "{path}"
            );
            assert_eq!(found.label, route.path);
            let unrouted = [Method::GET, Method::DELETE, Method::PUT]
                .into_iter()
                .find(|m| {
                    ROUTES
                        .iter()
                        .all(|r| r.method != m || matches(r.path, &path).is_none())
                })
                .expect("some method is not routed");
            let other = lookup(&unrouted, &path);
            assert!(matches!(other.found, Found::WrongMethod), "{path}");
            assert_eq!(other.label, route.path);
        }
    }

    /// `pattern` with every parameter filled in.
    fn example_path(pattern: &str) -> String {
        pattern
            .split('/')
            .map(|segment| match segment.strip_prefix('{') {
                Some(rest) => format!("x-1{}", rest.split_once('}').expect("closed").1),
                None => segment.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn patterns_capture_one_segment_and_respect_suffixes() {
        let p = "/v1beta/models/{model}:generateContent";
        assert_eq!(
            matches(p, "/v1beta/models/gemini-2.0-flash:generateContent")
                .expect("matches")
                .get(0),
            Some("gemini-2.0-flash")
        );
        for path in [
            "/v1beta/models/:generateContent",
            "/v1beta/models/a/b:generateContent",
            "/v1beta/models/a:b:generateContent",
            "/v1beta/models/a:streamGenerateContent",
            "/v1beta/models/a:generateContent/x",
            "/v1beta/models/a",
        ] {
            assert!(matches(p, path).is_none(), "{path}");
        }
        let id = "/v1/things/{id}/items";
        assert_eq!(
            matches(id, "/v1/things/t_1/items").expect("matches").get(0),
            Some("t_1")
        );
        assert!(matches(id, "/v1/things//items").is_none());
        assert!(matches(id, "/v1/things/t_1").is_none());
        assert_eq!(matches("/health", "/health"), Some(PathParams::default()));
        assert!(matches("/health", "/health/").is_none());
    }

    #[test]
    fn paths_outside_the_table_have_fixed_labels() {
        let admin = lookup(&Method::GET, "/admin/v1/keys/k-123");
        assert!(matches!(admin.found, Found::Admin));
        assert_eq!(admin.label, ADMIN_LABEL);
        let unknown = lookup(&Method::POST, "/v1/chat/completions/x");
        assert!(matches!(unknown.found, Found::Unknown));
        assert_eq!(unknown.label, OTHER_LABEL);
    }

    #[test]
    fn anthropic_paths_answer_errors_in_anthropic_shape() {
        let shape = |path| lookup(&Method::POST, path).errors;
        assert_eq!(shape("/v1/messages"), ErrorShape::Anthropic);
        assert_eq!(shape("/v1/messages/count_tokens"), ErrorShape::Anthropic);
        assert_eq!(shape("/v1/chat/completions"), ErrorShape::OpenAi);
        assert_eq!(shape("/v1/messages/batches"), ErrorShape::Anthropic);
        assert_eq!(shape("/unknown"), ErrorShape::OpenAi);
        assert_eq!(
            shape("/v1beta/models/m:generateContent"),
            ErrorShape::Gemini
        );
        assert_eq!(shape("/v1beta/models/m:predict"), ErrorShape::Gemini);
        assert_eq!(shape("/v1/models/m:generateContent"), ErrorShape::Gemini);
        assert_eq!(shape("/v1/models/m:predict"), ErrorShape::Gemini);
        assert_eq!(shape("/v1/models/m/extra"), ErrorShape::OpenAi);
        assert_eq!(
            lookup(&Method::GET, "/v1/models/m").errors,
            ErrorShape::OpenAi
        );
        assert_eq!(
            lookup(&Method::GET, "/v1/messages").errors,
            ErrorShape::Anthropic
        );
    }

    #[test]
    fn model_calls_name_their_endpoint() {
        let endpoints: Vec<&str> = ROUTES
            .iter()
            .filter_map(|r| match r.handler {
                Handler::ModelCall(d) => Some(d.endpoint().as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            endpoints,
            [
                "chat_completions",
                "embeddings",
                "messages",
                "query",
                "responses",
                "generate_content",
                "generate_content",
                "embed_content",
                "embed_content",
                "generate_content",
                "generate_content",
                "embed_content",
                "embed_content"
            ]
        );
    }
}
