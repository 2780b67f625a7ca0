//! The route table: the one list of what the edge serves. Dispatch, the 405 answers, metric
//! labels, span names and the error shape of each path all read it; nothing else spells a
//! path.

use http::Method;

use crate::dialects::Dialect;
use crate::dialects::anthropic::AnthropicMessages;
use crate::dialects::openai::{OpenAiChat, OpenAiEmbeddings};
use crate::dialects::query::QueryApi;
use crate::http::error::ErrorShape;

/// What serves a route.
#[derive(Clone, Copy)]
pub enum Handler {
    Health,
    Ready,
    Metrics,
    Models,
    /// A model call in a dialect, through the one model-call handler.
    ModelCall(&'static dyn Dialect),
    CountTokens,
    GuardrailsCheck,
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

/// Every route outside the admin API (which routes under [`ADMIN_PREFIX`] itself).
pub static ROUTES: [Route; 10] = [
    route(Method::GET, "/health", Handler::Health),
    route(Method::GET, "/ready", Handler::Ready),
    route(Method::GET, "/metrics", Handler::Metrics),
    route(Method::GET, "/v1/models", Handler::Models),
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
        Handler::CountTokens,
    ),
    route(Method::POST, "/query", Handler::ModelCall(&QueryApi)),
    route(
        Method::POST,
        "/v1/guardrails/check",
        Handler::GuardrailsCheck,
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
    Route(&'static Route),
    /// The path exists, not with this method (405).
    WrongMethod,
    Admin,
    Unknown,
}

/// Looks `method` and `path` up in the table.
pub fn find(method: &Method, path: &str) -> Found {
    let mut path_known = false;
    for route in &ROUTES {
        if route.path == path {
            if route.method == method {
                return Found::Route(route);
            }
            path_known = true;
        }
    }
    if path_known {
        Found::WrongMethod
    } else if path.starts_with(ADMIN_PREFIX) {
        Found::Admin
    } else {
        Found::Unknown
    }
}

/// The fixed name of a path, for metric labels and span names (never the raw path).
pub fn label(path: &str) -> &'static str {
    if let Some(route) = ROUTES.iter().find(|r| r.path == path) {
        route.path
    } else if path.starts_with(ADMIN_PREFIX) {
        ADMIN_LABEL
    } else {
        OTHER_LABEL
    }
}

/// The error shape callers of `path` expect: its route's, else that of the longest route the
/// path extends (an unknown `/v1/messages/...` path answers like `/v1/messages`), else OpenAI's.
pub fn error_shape(path: &str) -> ErrorShape {
    ROUTES
        .iter()
        .filter(|r| path.starts_with(r.path))
        .max_by_key(|r| r.path.len())
        .map_or(ErrorShape::OpenAi, |r| r.errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_found_by_its_method_and_labelled_by_its_path() {
        for route in &ROUTES {
            assert!(
                matches!(find(&route.method, route.path), Found::Route(r) if std::ptr::eq(r, route))
            );
            assert_eq!(label(route.path), route.path);
            let other = if route.method == Method::GET {
                Method::DELETE
            } else {
                Method::GET
            };
            assert!(
                matches!(find(&other, route.path), Found::WrongMethod),
                "{}",
                route.path
            );
        }
    }

    #[test]
    fn paths_outside_the_table_have_fixed_labels() {
        assert_eq!(label("/admin/v1/keys/k-123"), ADMIN_LABEL);
        assert!(matches!(find(&Method::GET, "/admin/v1/keys"), Found::Admin));
        assert_eq!(label("/v1/chat/completions/x"), OTHER_LABEL);
        assert!(matches!(find(&Method::POST, "/nope"), Found::Unknown));
    }

    #[test]
    fn anthropic_paths_answer_errors_in_anthropic_shape() {
        assert_eq!(error_shape("/v1/messages"), ErrorShape::Anthropic);
        assert_eq!(
            error_shape("/v1/messages/count_tokens"),
            ErrorShape::Anthropic
        );
        assert_eq!(error_shape("/v1/chat/completions"), ErrorShape::OpenAi);
        assert_eq!(error_shape("/v1/messages/batches"), ErrorShape::Anthropic);
        assert_eq!(error_shape("/unknown"), ErrorShape::OpenAi);
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
            ["chat_completions", "embeddings", "messages", "query"]
        );
    }
}
