//! Google's model list and model (`GET /v1beta/models`, `GET /v1beta/models/{model}`), so that
//! the google-genai SDK's `client.models.list()` and `models.get()` work: the models this
//! caller may use (the same allow-lists as `/v1/models`), as Gemini `Model` objects, in pages
//! (`pageSize`, `pageToken` / `nextPageToken`).
//!
//! A page token is the last name of the page before, encoded: the next page starts after it,
//! so paging stays consistent when the configuration reloads between two pages (names are
//! sorted).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Request, Response};
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::Serialize;

use gateway_core::GatewayError;
use gateway_core::types::ModelInfo;

use super::{credential, query_param};
use crate::http::body::Body;
use crate::http::inbound::Inbound;
use crate::http::info::json_response;
use crate::http::routes::PathParams;
use crate::state::AppState;

/// `pageSize` when the caller gives none (Google's default).
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest `pageSize` (Google's); larger values are served as this.
pub const MAX_PAGE_SIZE: usize = 1000;

/// The methods of the gateway's Gemini API. The gateway cannot tell a chat model from an
/// embedding model (the upstream decides), so every model lists them all.
const METHODS: [&str; 5] = [
    "generateContent",
    "streamGenerateContent",
    "countTokens",
    "embedContent",
    "batchEmbedContents",
];

/// Google's `Model` resource, for a public model name of the gateway.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeminiModel {
    /// `models/{name}`.
    pub name: String,
    /// The gateway's public model name.
    pub base_model_id: String,
    /// The gateway's public model name.
    pub display_name: String,
    /// Who serves it (the `owned_by` of `/v1/models`).
    pub description: String,
    pub supported_generation_methods: Vec<&'static str>,
}

impl GeminiModel {
    fn of(info: ModelInfo) -> Self {
        GeminiModel {
            name: format!("models/{}", info.id),
            description: format!(
                "{} through the gateway (owned by {})",
                info.id, info.owned_by
            ),
            display_name: info.id.clone(),
            base_model_id: info.id,
            supported_generation_methods: METHODS.to_vec(),
        }
    }
}

/// `ListModelsResponse`: a page of models.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeminiModelList {
    pub models: Vec<GeminiModel>,
    /// The `pageToken` of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// The page of `models` that `query` asks for.
pub fn page(
    mut models: Vec<ModelInfo>,
    query: Option<&str>,
) -> Result<GeminiModelList, GatewayError> {
    let size = match query_param(query, "pageSize") {
        None | Some("") => DEFAULT_PAGE_SIZE,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n < 0 => return Err(GatewayError::invalid("pageSize must not be negative")),
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(n) => usize::try_from(n).map_or(MAX_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE)),
            Err(_) => {
                return Err(GatewayError::invalid(format!(
                    "pageSize must be an integer, not '{}'",
                    raw.escape_default()
                )));
            }
        },
    };
    let after = match query_param(query, "pageToken") {
        None | Some("") => None,
        Some(token) => Some(decode_token(token)?),
    };
    models.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let start = after.map_or(0, |after| {
        models.partition_point(|m| m.id.as_str() <= after.as_str())
    });
    let rest = models.len().saturating_sub(start);
    let page: Vec<ModelInfo> = models.into_iter().skip(start).take(size).collect();
    let next_page_token = (rest > size)
        .then(|| page.last().map(|m| URL_SAFE_NO_PAD.encode(&m.id)))
        .flatten();
    Ok(GeminiModelList {
        models: page.into_iter().map(GeminiModel::of).collect(),
        next_page_token,
    })
}

/// The name a page token carries.
fn decode_token(token: &str) -> Result<String, GatewayError> {
    let invalid = || GatewayError::invalid("pageToken is not a token this API returned");
    let raw = percent_encoding::percent_decode_str(token)
        .decode_utf8()
        .map_err(|_| invalid())?;
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.as_bytes())
        .map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

/// `GET /v1beta/models`.
pub async fn list(
    state: &AppState,
    req: &Request<Incoming>,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let key = credential(req.headers(), req.uri().query());
    let principal = inbound.authenticate_token(state, key.as_deref()).await?;
    let list = page(state.gateway.models_for(&principal), req.uri().query())?;
    Ok(json_response(200, &list))
}

/// `GET /v1beta/models/{model}`: a model this caller may use; any other name is a 404, as on
/// `/v1/models/{id}`, so that a caller cannot probe which models exist.
pub async fn get(
    state: &AppState,
    req: &Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let key = credential(req.headers(), req.uri().query());
    let principal = inbound.authenticate_token(state, key.as_deref()).await?;
    let name = params.get(0).unwrap_or_default();
    if name.is_empty() {
        return Err(super::no_model());
    }
    let model = state
        .gateway
        .models_for(&principal)
        .into_iter()
        .find(|m| m.id == name)
        .ok_or_else(|| GatewayError::ModelNotFound(name.to_owned()))?;
    Ok(json_response(200, &GeminiModel::of(model)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models(n: usize) -> Vec<ModelInfo> {
        (0..n)
            .rev()
            .map(|i| ModelInfo::new(format!("m{i:02}"), "gateway"))
            .collect()
    }

    fn names(list: &GeminiModelList) -> Vec<&str> {
        list.models.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn pages_follow_each_other_in_name_order() {
        let first = page(models(5), Some("pageSize=2")).unwrap();
        assert_eq!(names(&first), ["models/m00", "models/m01"]);
        let token = first.next_page_token.clone().expect("more pages");
        let second = page(models(5), Some(&format!("pageSize=2&pageToken={token}"))).unwrap();
        assert_eq!(names(&second), ["models/m02", "models/m03"]);
        let token = second.next_page_token.clone().expect("one more page");
        let last = page(models(5), Some(&format!("pageToken={token}&pageSize=2"))).unwrap();
        assert_eq!(names(&last), ["models/m04"]);
        assert_eq!(last.next_page_token, None);
        // An exact fit has no next page either.
        assert_eq!(
            page(models(2), Some("pageSize=2")).unwrap().next_page_token,
            None
        );
    }

    #[test]
    fn page_sizes_default_and_are_capped() {
        assert_eq!(
            page(models(60), None).unwrap().models.len(),
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(
            page(models(60), Some("pageSize=0")).unwrap().models.len(),
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(
            page(models(1200), Some("pageSize=99999999999999999999"))
                .unwrap_err()
                .status(),
            400,
            "not an i64"
        );
        assert_eq!(
            page(models(1200), Some("pageSize=5000"))
                .unwrap()
                .models
                .len(),
            MAX_PAGE_SIZE
        );
        assert!(page(models(3), Some("pageSize=-1")).is_err());
        assert!(page(models(3), Some("pageSize=two")).is_err());
    }

    #[test]
    fn a_foreign_page_token_is_a_400() {
        for token in ["%%%", "not*base64", "_w"] {
            let err = page(models(3), Some(&format!("pageToken={token}"))).unwrap_err();
            assert_eq!(err.status(), 400, "{token}");
        }
    }

    #[test]
    fn a_model_is_googles_model_resource() {
        let value =
            serde_json::to_value(GeminiModel::of(ModelInfo::new("ollama/llama3:8b", "acme")))
                .unwrap();
        assert_eq!(value["name"], "models/ollama/llama3:8b");
        assert_eq!(value["baseModelId"], "ollama/llama3:8b");
        assert_eq!(value["displayName"], "ollama/llama3:8b");
        assert_eq!(value["supportedGenerationMethods"][0], "generateContent");
    }
}
