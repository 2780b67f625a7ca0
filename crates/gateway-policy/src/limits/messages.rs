//! What a refused caller reads: which limit was hit, whose it is, and when to retry.

use std::time::Duration;

use gateway_core::{GatewayError, Principal};

use super::backend::Denial;
use super::rules::{Dimension, Kind, Rule, describe_scope};

/// A concurrency refusal does not know when a slot frees; suggest a short wait.
const CONCURRENCY_RETRY: Duration = Duration::from_secs(1);

fn limited(message: String, retry_after: Option<Duration>) -> GatewayError {
    GatewayError::RateLimited {
        message,
        retry_after,
    }
}

fn usd(micros: u64) -> String {
    format!("{:.2}", micros as f64 / 1e6)
}

/// 429 naming `rule`, for a call that needed `amount` of it.
pub(crate) fn refused(
    p: &Principal,
    model: &str,
    rule: &Rule,
    amount: u64,
    denial: Denial,
    waited: Option<Duration>,
) -> GatewayError {
    let who = describe_scope(rule.scope, p, model);
    let what = rule.dimension.describe();
    let name = rule.dimension.as_str();
    let is_spend = matches!(rule.dimension.kind(), Kind::Spend(_));
    let (limit, need) = if is_spend {
        (
            format!("{} USD", usd(rule.limit)),
            format!("{} USD", usd(amount)),
        )
    } else {
        (rule.limit.to_string(), amount.to_string())
    };
    if denial.too_large {
        return limited(
            format!(
                "Request too large for the limit on {what} ({name}) of {who}: it needs {need}, the limit is {limit}. Reduce the prompt or max_tokens."
            ),
            None,
        );
    }
    if rule.dimension == Dimension::Concurrency {
        let queued = waited
            .map(|w| format!(" after waiting {:.1}s in the queue", w.as_secs_f64()))
            .unwrap_or_default();
        return limited(
            format!(
                "Concurrency limit reached for {who}: at most {limit} {what} ({name}){queued}. Retry when a request finishes."
            ),
            Some(CONCURRENCY_RETRY),
        );
    }
    let retry = denial.retry_after.unwrap_or(CONCURRENCY_RETRY);
    let message = if is_spend {
        format!(
            "Budget exhausted: the limit on {what} ({name}) of {who} is {limit}; it resets in {}.",
            human(retry)
        )
    } else {
        format!(
            "Rate limit reached for {what} ({name}) of {who}: limit {limit}, this request needs {need}. Retry in {}.",
            human(retry)
        )
    };
    limited(message, Some(retry))
}

pub(crate) fn queue_full(p: &Principal, depth: usize) -> GatewayError {
    limited(
        format!(
            "Concurrency limit reached for tenant '{}' and its queue is full ({depth} requests waiting). Retry shortly.",
            p.tenant
        ),
        Some(CONCURRENCY_RETRY),
    )
}

pub(crate) fn unpriced(model: &str) -> GatewayError {
    limited(
        format!(
            "Model '{model}' has no known price, and a spend limit applies to this caller: it cannot be used under a budget."
        ),
        None,
    )
}

fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{}s", d.as_secs() / 60, d.as_secs() % 60)
    } else {
        format!("{}h{}m", d.as_secs() / 3600, d.as_secs() % 3600 / 60)
    }
}
