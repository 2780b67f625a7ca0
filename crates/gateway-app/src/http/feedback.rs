//! `POST /v1/feedback`: a caller rates one of its own calls. `{"request_id", "score": 0..1 |
//! "up" | "down", "tags"?: [..], "comment"?}` -> the stored feedback. The call is looked up
//! by its `x-request-id` in the caller's tenant's usage records only: another tenant's call
//! answers 404 exactly like an unknown one. Tags and comment are bounded; the comment is
//! sealed with the tenant's data key when encryption is on. Feedback given again on the
//! same call replaces the earlier one.

use std::time::SystemTime;

use http::{Request, Response};
use hyper::body::Incoming;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use gateway_core::GatewayError;
use gateway_core::store::{
    Feedback, FeedbackStore, MAX_FEEDBACK_COMMENT_BYTES, MAX_FEEDBACK_TAG_BYTES, MAX_FEEDBACK_TAGS,
};

use super::admin::time_format as format;
use super::body::{Body, parse_json, read_limited};
use super::inbound::Inbound;
use super::info::json_response;
use crate::state::AppState;

/// Longest request id accepted (the edge's own ids are far shorter).
const MAX_REQUEST_ID_BYTES: usize = 200;
/// Largest body: the bounded fields and their JSON escapes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body of `POST /v1/feedback`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The `x-request-id` of the call rated (one of the caller's tenant's calls).
    pub request_id: String,
    /// A number from 0 (bad) to 1 (good), or a thumb: `up` (1) or `down` (0).
    pub score: FeedbackScore,
    /// At most 16 tags of 1 to 64 bytes each.
    #[serde(default)]
    pub tags: Vec<String>,
    /// At most 4096 bytes.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A score in 0..=1 or a thumb.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FeedbackScore {
    Number(f64),
    Thumb(Thumb),
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Thumb {
    Up,
    Down,
}

/// One feedback, as stored.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FeedbackView {
    #[schemars(extend("const" = "feedback"))]
    pub object: &'static str,
    pub tenant: String,
    pub request_id: String,
    /// Who gave it: the key id or JWT subject.
    pub subject: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// 0..1 (thumbs up is 1, down 0).
    pub score: f64,
    pub tags: Vec<String>,
    pub comment: Option<String>,
    /// The public model of the call.
    pub model: String,
    /// The deployment that answered it.
    pub provider: Option<String>,
    pub upstream_model: Option<String>,
    /// The classifier's task type, when the call was classified.
    pub task: Option<String>,
    /// The heuristic quality score of the answer, when it was scored.
    pub quality: Option<f64>,
    /// Why a call to a virtual model went where it did (prompt-type routing).
    pub route_reason: Option<String>,
}

pub fn view(f: &Feedback) -> FeedbackView {
    FeedbackView {
        object: "feedback",
        tenant: f.tenant.as_str().to_owned(),
        request_id: f.request_id.clone(),
        subject: f.subject.clone(),
        created_at: format(f.at),
        score: f.score,
        tags: f.tags.clone(),
        comment: f.comment.clone(),
        model: f.call.model.clone(),
        provider: f.call.provider.clone(),
        upstream_model: f.call.upstream_model.clone(),
        task: f.call.task.clone(),
        quality: f.call.quality,
        route_reason: f.call.route_reason.clone(),
    }
}

fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!(
        "No call with request id '{}' was found for your tenant.",
        id.escape_default()
    ))
}

/// The score in 0..=1, or what is wrong with the body.
fn validate(body: &FeedbackRequest) -> Result<f64, GatewayError> {
    let id = &body.request_id;
    if id.is_empty() || id.len() > MAX_REQUEST_ID_BYTES || id.chars().any(char::is_control) {
        return Err(GatewayError::invalid_param(
            "request_id",
            format!(
                "'request_id' must be 1 to {MAX_REQUEST_ID_BYTES} bytes without control characters: the x-request-id of the call."
            ),
        ));
    }
    let score = match body.score {
        FeedbackScore::Number(n) if (0.0..=1.0).contains(&n) => n,
        FeedbackScore::Number(_) => {
            return Err(GatewayError::invalid_param(
                "score",
                "'score' must be a number from 0 to 1, or \"up\" or \"down\".",
            ));
        }
        FeedbackScore::Thumb(Thumb::Up) => 1.0,
        FeedbackScore::Thumb(Thumb::Down) => 0.0,
    };
    if body.tags.len() > MAX_FEEDBACK_TAGS
        || body.tags.iter().any(|t| {
            t.is_empty() || t.len() > MAX_FEEDBACK_TAG_BYTES || t.chars().any(char::is_control)
        })
    {
        return Err(GatewayError::invalid_param(
            "tags",
            format!(
                "'tags' takes at most {MAX_FEEDBACK_TAGS} tags of 1 to {MAX_FEEDBACK_TAG_BYTES} bytes each, without control characters."
            ),
        ));
    }
    if body
        .comment
        .as_ref()
        .is_some_and(|c| c.len() > MAX_FEEDBACK_COMMENT_BYTES)
    {
        return Err(GatewayError::invalid_param(
            "comment",
            format!("'comment' must be at most {MAX_FEEDBACK_COMMENT_BYTES} bytes."),
        ));
    }
    Ok(score)
}

pub async fn give(
    state: &AppState,
    req: Request<Incoming>,
    inbound: &mut Inbound,
) -> Result<Response<Body>, GatewayError> {
    let principal = inbound.authenticate(state, req.headers()).await?;
    let limit = state.max_body_bytes.min(MAX_BODY_BYTES);
    let bytes = read_limited(req.into_body(), limit, state.body_timeout).await?;
    let body: FeedbackRequest = parse_json(&bytes)?;
    let score = validate(&body)?;
    // The edge profile keeps no usage records: no call can be found there.
    let Some(store) = state.sql_store() else {
        return Err(not_found(&body.request_id));
    };
    let call = store
        .rated_call(&principal.tenant, &body.request_id)
        .await?
        .ok_or_else(|| not_found(&body.request_id))?;
    let mut tags = body.tags;
    tags.sort();
    tags.dedup();
    let feedback = Feedback {
        tenant: principal.tenant.clone(),
        request_id: body.request_id,
        subject: principal.subject.to_string(),
        at: SystemTime::now(),
        score,
        tags,
        comment: body.comment.filter(|c| !c.is_empty()),
        call,
    };
    store.put_feedback(&feedback).await?;
    state.bandit.feedback(
        feedback.call.route_reason.as_deref(),
        feedback.call.task.as_deref(),
        score,
    );
    Ok(json_response(200, &view(&feedback)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Result<f64, GatewayError> {
        let body: FeedbackRequest = parse_json(json.as_bytes())?;
        validate(&body)
    }

    #[test]
    fn scores_thumbs_and_bounds() {
        assert_eq!(body(r#"{"request_id":"r","score":0.25}"#).ok(), Some(0.25));
        assert_eq!(body(r#"{"request_id":"r","score":"up"}"#).ok(), Some(1.0));
        assert_eq!(
            body(r#"{"request_id":"r","score":"down","tags":["a"]}"#).ok(),
            Some(0.0)
        );
        let long_tag = format!(
            r#"{{"request_id":"r","score":1,"tags":["{}"]}}"#,
            "t".repeat(65)
        );
        let many_tags = format!(
            r#"{{"request_id":"r","score":1,"tags":[{}]}}"#,
            vec!["\"t\""; 17].join(",")
        );
        let long_comment = format!(
            r#"{{"request_id":"r","score":1,"comment":"{}"}}"#,
            "c".repeat(4097)
        );
        for (bad, param) in [
            (r#"{"request_id":"r","score":1.5}"#.to_owned(), "score"),
            (r#"{"request_id":"r","score":-0.1}"#.to_owned(), "score"),
            (r#"{"request_id":"","score":1}"#.to_owned(), "request_id"),
            (
                r#"{"request_id":"r","score":1,"tags":[""]}"#.to_owned(),
                "tags",
            ),
            (long_tag, "tags"),
            (many_tags, "tags"),
            (long_comment, "comment"),
        ] {
            match body(&bad) {
                Err(GatewayError::InvalidRequest { param: Some(p), .. }) => {
                    assert_eq!(p, param, "{bad}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        for bad in [
            r#"{"request_id":"r","score":"meh"}"#,
            r#"{"request_id":"r"}"#,
            r#"{"request_id":"r","score":1,"rating":5}"#,
        ] {
            assert!(body(bad).is_err(), "{bad}");
        }
    }
}
