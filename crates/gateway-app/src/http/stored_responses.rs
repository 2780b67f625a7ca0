//! The stored responses of the Responses API: `GET /v1/responses/{id}`,
//! `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items` (paginated like
//! OpenAI's lists: `limit` 1-100, default 20; `order` `desc` (default) or `asc`; `after` an
//! item id). Authenticated like every route; a response is found only within the caller's
//! tenant, so another tenant's id answers 404 exactly like an unknown one.

use http::{Request, Response};
use hyper::body::Incoming;
use serde_json::{Value, json};

use gateway_core::store::StoredResponse;
use gateway_core::{GatewayError, Principal};

use super::body::{Body, full, json_bytes, response};
use super::inbound::Inbound;
use super::routes::PathParams;
use crate::dialects::responses::ids::is_valid_id;
use crate::state::AppState;

/// Default and largest `limit` of an input item page.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Response with id '{id}' not found."))
}

/// The caller and the response id of the path.
async fn caller_and_id<'p>(
    state: &AppState,
    req: &Request<Incoming>,
    params: &'p PathParams,
    inbound: &mut Inbound,
) -> Result<(Principal, &'p str), GatewayError> {
    let principal = inbound.authenticate(state, req.headers()).await?;
    let id = params.get(0).unwrap_or_default();
    if !is_valid_id(id) {
        return Err(not_found(id));
    }
    Ok((principal, id))
}

async fn load(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<StoredResponse, GatewayError> {
    let Some(responses) = &state.responses else {
        return Err(not_found(id));
    };
    responses
        .store
        .get_response(&principal.tenant, id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn json_reply(body: Vec<u8>) -> Response<Body> {
    response(full(body), "application/json")
}

/// `GET /v1/responses/{id}`: the stored response object.
pub async fn retrieve(
    state: &AppState,
    req: Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let (principal, id) = caller_and_id(state, &req, params, inbound).await?;
    if query_pairs(req.uri().query()).any(|(k, v)| k == "stream" && v == "true") {
        return Err(GatewayError::InvalidRequest {
            message: "Replaying a stored response as a stream is not supported; retrieve it without 'stream'.".to_owned(),
            param: Some("stream".to_owned()),
            code: Some("unsupported_parameter"),
        });
    }
    let stored = load(state, &principal, id).await?;
    Ok(json_reply(stored.response.into_bytes()))
}

/// `DELETE /v1/responses/{id}`.
pub async fn delete(
    state: &AppState,
    req: Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let (principal, id) = caller_and_id(state, &req, params, inbound).await?;
    let deleted = match &state.responses {
        Some(responses) => {
            responses
                .store
                .delete_response(&principal.tenant, id)
                .await?
        }
        None => false,
    };
    if !deleted {
        return Err(not_found(id));
    }
    let body = json!({ "id": id, "object": "response.deleted", "deleted": true });
    Ok(json_reply(json_bytes(&body)?))
}

/// `GET /v1/responses/{id}/input_items`: one page of the request's input items.
pub async fn input_items(
    state: &AppState,
    req: Request<Incoming>,
    params: &PathParams,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let (principal, id) = caller_and_id(state, &req, params, inbound).await?;
    let page = PageQuery::parse(req.uri().query())?;
    let stored = load(state, &principal, id).await?;
    let items: Vec<Value> = serde_json::from_str(&stored.input_items).map_err(|e| {
        tracing::error!(response = id, error = %e, "stored input items are unreadable");
        GatewayError::Internal("stored input items are unreadable".to_owned())
    })?;
    let body = page.apply(items)?;
    Ok(json_reply(json_bytes(&body)?))
}

/// `key=value` pairs of a query string (values are ids and numbers: no decoding needed
/// beyond `+`-free ASCII, and anything else simply does not match).
fn query_pairs(query: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// `limit`, `order` and `after` of an input item page.
#[derive(Debug, PartialEq)]
struct PageQuery<'a> {
    limit: usize,
    descending: bool,
    after: Option<&'a str>,
}

impl<'a> PageQuery<'a> {
    fn parse(query: Option<&'a str>) -> Result<Self, GatewayError> {
        let mut page = PageQuery {
            limit: DEFAULT_LIMIT,
            descending: true,
            after: None,
        };
        for (key, value) in query_pairs(query) {
            match key {
                "limit" => {
                    page.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            GatewayError::invalid_param(
                                "limit",
                                format!("'limit' must be a number from 1 to {MAX_LIMIT}."),
                            )
                        })?;
                }
                "order" => {
                    page.descending = match value {
                        "desc" => true,
                        "asc" => false,
                        _ => {
                            return Err(GatewayError::invalid_param(
                                "order",
                                "'order' must be 'asc' or 'desc'.",
                            ));
                        }
                    }
                }
                "after" => page.after = Some(value),
                // `include` asks for item details this gateway always includes.
                _ => {}
            }
        }
        Ok(page)
    }

    /// The page of `items` (in the order sent) this query asks for, as an OpenAI list.
    fn apply(&self, mut items: Vec<Value>) -> Result<Value, GatewayError> {
        if self.descending {
            items.reverse();
        }
        let start = match self.after {
            None => 0,
            Some(after) => {
                items
                    .iter()
                    .position(|item| item["id"] == after)
                    .ok_or_else(|| {
                        GatewayError::invalid_param(
                            "after",
                            format!("No input item with id '{after}' in this response."),
                        )
                    })?
                    + 1
            }
        };
        let rest = items.len().saturating_sub(start);
        let data: Vec<Value> = items.into_iter().skip(start).take(self.limit).collect();
        let first_id = data.first().map(|item| item["id"].clone());
        let last_id = data.last().map(|item| item["id"].clone());
        Ok(json!({
            "object": "list",
            "data": data,
            "first_id": first_id,
            "last_id": last_id,
            "has_more": rest > self.limit,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({"id": format!("msg_{i}")})).collect()
    }

    fn ids(page: &Value) -> Vec<&str> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn pages_walk_every_item_once_in_either_order() {
        let page = PageQuery::parse(Some("limit=2")).unwrap();
        let first = page.apply(items(5)).unwrap();
        assert_eq!(ids(&first), ["msg_4", "msg_3"]);
        assert_eq!(first["has_more"], true);
        assert_eq!(first["last_id"], "msg_3");
        let next = PageQuery::parse(Some("limit=2&after=msg_3")).unwrap();
        assert_eq!(ids(&next.apply(items(5)).unwrap()), ["msg_2", "msg_1"]);
        let last = PageQuery::parse(Some("limit=2&after=msg_1")).unwrap();
        let last = last.apply(items(5)).unwrap();
        assert_eq!(ids(&last), ["msg_0"]);
        assert_eq!(last["has_more"], false);
        let asc = PageQuery::parse(Some("order=asc&include=x")).unwrap();
        let all = asc.apply(items(3)).unwrap();
        assert_eq!(ids(&all), ["msg_0", "msg_1", "msg_2"]);
        assert_eq!(all["first_id"], "msg_0");
        let empty = PageQuery::parse(None).unwrap().apply(Vec::new()).unwrap();
        assert_eq!(empty["data"], json!([]));
        assert_eq!(empty["has_more"], false);
    }

    #[test]
    fn bad_page_parameters_are_named() {
        for (query, param) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=x", "limit"),
            ("order=up", "order"),
        ] {
            let err = PageQuery::parse(Some(query)).unwrap_err();
            assert_eq!(err.param(), Some(param), "{query}");
            assert_eq!(err.status(), 400);
        }
        let err = PageQuery::parse(Some("after=nope"))
            .unwrap()
            .apply(items(2))
            .unwrap_err();
        assert_eq!(err.param(), Some("after"));
    }
}
