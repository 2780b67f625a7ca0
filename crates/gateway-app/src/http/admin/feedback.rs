//! `GET /admin/v1/feedback` (list, newest first) and `GET /admin/v1/feedback/summary`
//! (aggregates per model, deployment and task type). Both need `read_usage` on the tenant
//! asked for (without `tenant=`, an admin sees every tenant and anyone else their own), like
//! the usage reports. On the edge profile's signed-file store there is no feedback: both
//! answer empty lists.

use http::Response;
use schemars::JsonSchema;
use serde::Serialize;

use gateway_auth::Permission;
use gateway_core::GatewayError;
use gateway_core::store::{
    FeedbackAggregate, FeedbackDimension, FeedbackQuery, FeedbackStore, MAX_FEEDBACK_PAGE,
};

use super::auth::scope;
use super::query::Query;
use super::views::{self, List};
use super::{Admin, ok};
use crate::http::body::Body;
use crate::http::feedback::{FeedbackView, view};

/// The filters both endpoints take.
const FILTERS: [&str; 6] = ["tenant", "model", "provider", "task", "from", "to"];

fn feedback_query(ctx: &Admin<'_>, q: &Query) -> Result<FeedbackQuery, GatewayError> {
    Ok(FeedbackQuery {
        tenant: scope(&ctx.principal, Permission::ReadUsage, q.text("tenant"))?,
        model: q.text("model").map(str::to_owned),
        provider: q.text("provider").map(str::to_owned),
        task: q.text("task").map(str::to_owned),
        from: q.start("from")?,
        until: q.end("to")?,
        limit: None,
    })
}

/// `GET /admin/v1/feedback?tenant=&model=&provider=&task=&from=&to=&limit=`.
pub async fn list_feedback(
    ctx: &Admin<'_>,
    query: Option<&str>,
) -> Result<List<FeedbackView>, GatewayError> {
    let mut allowed = FILTERS.to_vec();
    allowed.push("limit");
    let q = Query::parse(query, &allowed)?;
    let mut fq = feedback_query(ctx, &q)?;
    let limit = q.number("limit")?.unwrap_or(100);
    if !(1..=u64::from(MAX_FEEDBACK_PAGE)).contains(&limit) {
        return Err(GatewayError::invalid_param(
            "limit",
            format!("'limit' must be between 1 and {MAX_FEEDBACK_PAGE}."),
        ));
    }
    fq.limit = u32::try_from(limit).ok();
    let rows = match ctx.state.sql_store() {
        Some(store) => store.list_feedback(&fq).await?,
        None => Vec::new(),
    };
    Ok(views::list(rows.iter().map(view).collect()))
}

pub async fn list(ctx: &Admin<'_>, query: Option<&str>) -> Result<Response<Body>, GatewayError> {
    ok(200, &list_feedback(ctx, query).await?)
}

/// One group of a feedback summary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FeedbackSummaryRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The deployment (grouped by `deployment`): provider and upstream model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_model: Option<String>,
    /// The task type (grouped by `task`; absent for unclassified calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Feedback given in the group.
    pub count: u64,
    /// Mean feedback score (0..1).
    pub avg_score: f64,
    /// Scores of at least 0.5, and below.
    pub positive: u64,
    pub negative: u64,
    /// Mean heuristic quality of the rated answers that were scored.
    pub avg_quality: Option<f64>,
}

fn row(a: &FeedbackAggregate) -> FeedbackSummaryRow {
    FeedbackSummaryRow {
        tenant: a.tenant.clone(),
        model: a.model.clone(),
        provider: a.provider.clone(),
        upstream_model: a.upstream_model.clone(),
        task: a.task.clone(),
        count: a.count,
        avg_score: a.mean_score,
        positive: a.positive,
        negative: a.negative,
        avg_quality: a.mean_quality,
    }
}

/// A feedback summary: one row per group.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FeedbackSummary {
    #[schemars(extend("const" = "list"))]
    pub object: &'static str,
    pub data: Vec<FeedbackSummaryRow>,
    /// The dimensions grouped by, in order.
    pub group_by: Vec<String>,
}

/// `GET /admin/v1/feedback/summary?...&group_by=model,task` (the default grouping).
pub async fn summary(ctx: &Admin<'_>, query: Option<&str>) -> Result<Response<Body>, GatewayError> {
    let mut allowed = FILTERS.to_vec();
    allowed.push("group_by");
    let q = Query::parse(query, &allowed)?;
    let fq = feedback_query(ctx, &q)?;
    let mut names: Vec<&str> = q.list("group_by");
    if q.text("group_by").is_none() {
        names = vec!["model", "task"];
    }
    let mut group_by = Vec::new();
    for name in &names {
        let d = FeedbackDimension::parse(name).ok_or_else(|| {
            GatewayError::invalid_param(
                "group_by",
                format!(
                    "Cannot group feedback by '{name}'; use tenant, model, deployment or task."
                ),
            )
        })?;
        if !group_by.contains(&d) {
            group_by.push(d);
        }
    }
    let rows = match ctx.state.sql_store() {
        Some(store) => store.summarize_feedback(&fq, &group_by).await?,
        None => Vec::new(),
    };
    ok(
        200,
        &FeedbackSummary {
            object: "list",
            data: rows.iter().map(row).collect(),
            group_by: names.iter().map(|n| (*n).to_owned()).collect(),
        },
    )
}
