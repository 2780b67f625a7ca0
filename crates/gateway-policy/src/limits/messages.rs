//! What a refused caller reads: which limit was hit, whose it is, and when to retry.

use std::time::Duration;

use gateway_core::{GatewayError, LimitKind, Principal};

use super::backend::Denial;
use super::rules::{Dimension, Kind, Rule, describe_scope};

/// A concurrency refusal does not know when a slot frees; suggest a short wait.
const CONCURRENCY_RETRY: Duration = Duration::from_secs(1);

fn limited(limit: LimitKind, message: String, retry_after: Option<Duration>) -> GatewayError {
    GatewayError::rate_limited(limit, message, retry_after)
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
    let kind = rule.dimension.limit_kind();
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
            kind,
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
            kind,
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
    limited(kind, message, Some(retry))
}

pub(crate) fn queue_full(p: &Principal, depth: usize) -> GatewayError {
    limited(
        LimitKind::Concurrency,
        format!(
            "Concurrency limit reached for tenant '{}' and its queue is full ({depth} requests waiting). Retry shortly.",
            p.tenant
        ),
        Some(CONCURRENCY_RETRY),
    )
}

pub(crate) fn unpriced(model: &str) -> GatewayError {
    limited(
        LimitKind::Budget,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::rules::Scope;

    fn refusal(dimension: Dimension, too_large: bool) -> GatewayError {
        let rule = Rule {
            scope: Scope::Tenant,
            dimension,
            limit: 1,
            id: "t/acme".to_owned(),
        };
        let denial = Denial {
            index: 0,
            retry_after: Some(Duration::from_secs(2)),
            too_large,
        };
        refused(&Principal::anonymous(), "m", &rule, 5, denial, None)
    }

    fn kind(err: &GatewayError) -> Option<LimitKind> {
        match err {
            GatewayError::RateLimited { limit, .. } => Some(*limit),
            _ => None,
        }
    }

    /// Every refusal names its limit kind as a field, whatever its message says.
    #[test]
    fn each_dimension_refuses_with_its_limit_kind() {
        let expected = [
            (Dimension::Rps, LimitKind::Requests),
            (Dimension::Rpm, LimitKind::Requests),
            (Dimension::Rpd, LimitKind::Requests),
            (Dimension::Tpm, LimitKind::Tokens),
            (Dimension::Tpd, LimitKind::Tokens),
            (Dimension::Concurrency, LimitKind::Concurrency),
            (Dimension::SpendDaily, LimitKind::Budget),
            (Dimension::SpendMonthly, LimitKind::Budget),
        ];
        assert_eq!(expected.len(), Dimension::ALL.len());
        for (dimension, limit) in expected {
            for too_large in [false, true] {
                let err = refusal(dimension, too_large);
                assert_eq!(kind(&err), Some(limit), "{dimension:?}: {err}");
            }
        }
        let p = Principal::anonymous();
        assert_eq!(kind(&queue_full(&p, 3)), Some(LimitKind::Concurrency));
        assert_eq!(kind(&unpriced("m")), Some(LimitKind::Budget));
    }
}
