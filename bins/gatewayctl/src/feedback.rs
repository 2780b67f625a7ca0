//! `gatewayctl feedback list|summary`: callers' feedback on their calls over
//! `/admin/v1/feedback` and `/admin/v1/feedback/summary` (docs/routing.md, "Feedback").

use clap::{Args, Subcommand};
use http::Method;
use serde_json::Value;

use crate::client::{Client, CtlError, query};
use crate::commands::Outcome;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum FeedbackCmd {
    /// Feedback given, newest first.
    List {
        #[command(flatten)]
        filters: FeedbackFilters,
        /// At most this many (1-1000, default 100).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Feedback aggregated per group: count, mean score, thumbs up and down, mean quality.
    Summary {
        #[command(flatten)]
        filters: FeedbackFilters,
        /// Group by these, comma-separated: tenant, model, deployment, task (default
        /// model,task).
        #[arg(long, value_delimiter = ',')]
        group_by: Vec<String>,
    },
}

#[derive(Debug, Default, Args)]
pub struct FeedbackFilters {
    #[arg(long)]
    pub tenant: Option<String>,
    /// A public model.
    #[arg(long)]
    pub model: Option<String>,
    /// The provider that answered.
    #[arg(long)]
    pub provider: Option<String>,
    /// A task type: code, math, reasoning, creative_writing, conversation, extraction,
    /// translation, summarisation.
    #[arg(long)]
    pub task: Option<String>,
    /// Start, inclusive: 2024-05-01, 2024-05-01T12:00:00Z or unix seconds.
    #[arg(long)]
    pub from: Option<String>,
    /// End, exclusive; a bare date includes that whole day.
    #[arg(long)]
    pub to: Option<String>,
}

impl FeedbackFilters {
    fn pairs(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("tenant", self.tenant.clone()),
            ("model", self.model.clone()),
            ("provider", self.provider.clone()),
            ("task", self.task.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
        ]
    }
}

const LIST_COLUMNS: [(&str, &str); 8] = [
    ("CREATED", "created_at"),
    ("TENANT", "tenant"),
    ("REQUEST", "request_id"),
    ("MODEL", "model"),
    ("TASK", "task"),
    ("SCORE", "score"),
    ("QUALITY", "quality"),
    ("TAGS", "tags"),
];

const SUMMARY_TOTALS: [(&str, &str); 5] = [
    ("COUNT", "count"),
    ("AVG SCORE", "avg_score"),
    ("UP", "positive"),
    ("DOWN", "negative"),
    ("AVG QUALITY", "avg_quality"),
];

/// The summary's columns: the grouped dimensions (as the gateway echoes them), then totals.
fn summary_columns(group_by: &Value) -> Vec<(&'static str, &'static str)> {
    let mut columns = Vec::new();
    for d in group_by.as_array().map(Vec::as_slice).unwrap_or_default() {
        match d.as_str() {
            Some("tenant") => columns.push(("TENANT", "tenant")),
            Some("model") => columns.push(("MODEL", "model")),
            Some("deployment") => {
                columns.push(("PROVIDER", "provider"));
                columns.push(("UPSTREAM MODEL", "upstream_model"));
            }
            Some("task") => columns.push(("TASK", "task")),
            _ => {}
        }
    }
    columns.extend(SUMMARY_TOTALS);
    columns
}

fn shown(json: bool, v: &Value, human: impl FnOnce(&Value) -> String) -> Outcome {
    Outcome::ok(if json {
        serde_json::to_string_pretty(v).unwrap_or_default()
    } else {
        human(v)
    })
}

pub async fn run(client: &Client, json: bool, cmd: &FeedbackCmd) -> Result<Outcome, CtlError> {
    match cmd {
        FeedbackCmd::List { filters, limit } => {
            let mut pairs = filters.pairs();
            pairs.push(("limit", limit.map(|l| l.to_string())));
            let path = format!("/admin/v1/feedback{}", query(&pairs));
            let v = client.call(Method::GET, &path, None).await?;
            Ok(shown(json, &v, |v| output::list(v, &LIST_COLUMNS)))
        }
        FeedbackCmd::Summary { filters, group_by } => {
            let mut pairs = filters.pairs();
            pairs.push((
                "group_by",
                (!group_by.is_empty()).then(|| group_by.join(",")),
            ));
            let path = format!("/admin/v1/feedback/summary{}", query(&pairs));
            let v = client.call(Method::GET, &path, None).await?;
            Ok(shown(json, &v, |v| {
                output::list(v, &summary_columns(&v["group_by"]))
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_columns_follow_the_grouping() {
        let cols = summary_columns(&json!(["deployment", "task"]));
        let headers: Vec<&str> = cols.iter().map(|(h, _)| *h).collect();
        assert_eq!(
            headers,
            [
                "PROVIDER",
                "UPSTREAM MODEL",
                "TASK",
                "COUNT",
                "AVG SCORE",
                "UP",
                "DOWN",
                "AVG QUALITY"
            ]
        );
    }
}
