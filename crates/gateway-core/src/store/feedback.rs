//! Caller feedback on its own calls (`POST /v1/feedback`): a score in 0..=1 (thumbs up 1,
//! down 0), bounded tags and an optional comment, tied to the call's usage record (its
//! model, deployment, task and heuristic quality are copied in when the feedback is given).
//! Every lookup names the tenant: a tenant can neither see nor rate another's calls. One
//! feedback per call and tenant; giving it again replaces it.

use std::time::SystemTime;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::GatewayError;
use crate::principal::TenantId;

/// Most tags on one feedback.
pub const MAX_FEEDBACK_TAGS: usize = 16;
/// Longest tag, in bytes.
pub const MAX_FEEDBACK_TAG_BYTES: usize = 64;
/// Longest comment, in bytes.
pub const MAX_FEEDBACK_COMMENT_BYTES: usize = 4096;
/// Most rows one list returns.
pub const MAX_FEEDBACK_PAGE: u32 = 1000;

/// What the usage record of a call says about it (what feedback is aggregated by).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RatedCall {
    /// The public model the caller named.
    pub model: String,
    /// The deployment that answered: provider and upstream model.
    pub provider: Option<String>,
    pub upstream_model: Option<String>,
    /// The classifier's task, when routing classified the request.
    pub task: Option<String>,
    /// The heuristic quality score of the answer, when it was scored.
    pub quality: Option<f64>,
    /// Why a virtual model's call went to `model`'s deployment (prompt-type routing).
    pub route_reason: Option<String>,
}

/// One stored feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub tenant: TenantId,
    /// The `x-request-id` of the call rated.
    pub request_id: String,
    /// Who gave it: the key id or JWT subject.
    pub subject: String,
    pub at: SystemTime,
    /// 0..=1; thumbs up is 1, down 0.
    pub score: f64,
    pub tags: Vec<String>,
    /// Sealed at rest with the tenant's data key when encryption is on.
    pub comment: Option<String>,
    pub call: RatedCall,
}

/// Which feedback to list or summarise. Filters are ANDed; `from` inclusive, `until` exclusive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackQuery {
    pub tenant: Option<TenantId>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub task: Option<String>,
    pub from: Option<SystemTime>,
    pub until: Option<SystemTime>,
    /// Lists only: at most this many, newest first (capped at [`MAX_FEEDBACK_PAGE`]).
    pub limit: Option<u32>,
}

/// What a summary groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedbackDimension {
    Tenant,
    Model,
    /// Provider and upstream model.
    Deployment,
    Task,
}

impl FeedbackDimension {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "tenant" => FeedbackDimension::Tenant,
            "model" => FeedbackDimension::Model,
            "deployment" => FeedbackDimension::Deployment,
            "task" => FeedbackDimension::Task,
            _ => return None,
        })
    }
}

/// One group of a summary. The dimension fields are `Some` exactly for the grouped dimensions
/// (`task` and the deployment may also be `None` within a group: calls without them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FeedbackAggregate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Feedback rows in the group.
    pub count: u64,
    /// Mean feedback score.
    pub mean_score: f64,
    /// Scores of at least 0.5 / below 0.5.
    pub positive: u64,
    pub negative: u64,
    /// Mean heuristic quality of the rated calls that were scored (`None`: none was).
    pub mean_quality: Option<f64>,
}

/// Feedback, by tenant.
#[async_trait]
pub trait FeedbackStore: Send + Sync {
    /// The tenant's call `request_id` as its usage record tells it (the latest, should a
    /// request id repeat); `None` when the tenant has no such call.
    async fn rated_call(
        &self,
        tenant: &TenantId,
        request_id: &str,
    ) -> Result<Option<RatedCall>, GatewayError>;
    /// Stores `feedback`, replacing the tenant's earlier feedback on the same call.
    async fn put_feedback(&self, feedback: &Feedback) -> Result<(), GatewayError>;
    /// Matching feedback, newest first.
    async fn list_feedback(&self, query: &FeedbackQuery) -> Result<Vec<Feedback>, GatewayError>;
    /// Aggregates of matching feedback by `group_by` (none: one group over everything).
    async fn summarize_feedback(
        &self,
        query: &FeedbackQuery,
        group_by: &[FeedbackDimension],
    ) -> Result<Vec<FeedbackAggregate>, GatewayError>;
    /// Deletes feedback given before `cutoff` (retention with the usage); how many went.
    async fn delete_feedback_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError>;
}
