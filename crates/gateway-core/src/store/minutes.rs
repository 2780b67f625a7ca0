//! Usage kept per minute instead of per call (`[telemetry.usage] detail = "minute"`): the
//! totals of every (minute, tenant, subject, model), which answer the same [`UsageQuery`]
//! aggregates as the per-call records at a fraction of the rows and of the work per call.
//!
//! [`UsageQuery`]: super::UsageQuery

use std::sync::Arc;
use std::time::SystemTime;

use crate::phases::account::UsageRecord;
use crate::principal::TenantId;

use super::{from_unix_millis, unix_millis};

const MINUTE_MS: i64 = 60_000;

/// What a set of calls adds up to: one (minute, tenant, subject, model) of the per-minute
/// totals, or one group of a [`super::UsageAggregate`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UsageTotals {
    pub requests: u64,
    /// Calls answered with status >= 400.
    pub errors: u64,
    pub cache_hits: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    /// Sum over the calls with a known price.
    pub cost_usd: f64,
    /// Calls whose price was unknown (not counted in `cost_usd`).
    pub unpriced_requests: u64,
    /// Guardrail findings (flags, redactions, blocks) over the calls' inputs and outputs.
    pub guardrail_findings: u64,
}

impl UsageTotals {
    /// Counts one call, exactly as the aggregate over per-call records counts it.
    pub fn add_record(&mut self, record: &UsageRecord) {
        self.requests += 1;
        self.errors += u64::from(record.status >= 400);
        self.cache_hits += u64::from(record.cache_hit);
        if let Some(usage) = &record.usage {
            self.prompt_tokens += usage.prompt_tokens;
            self.completion_tokens += usage.completion_tokens;
            self.total_tokens += usage.total_tokens;
        }
        match record.cost_usd {
            Some(cost) => self.cost_usd += cost,
            None => self.unpriced_requests += 1,
        }
        self.guardrail_findings += u64::from(record.guardrail_findings.count);
    }

    /// Adds `other` (two flushes of the same minute, or a retried write).
    pub fn merge(&mut self, other: &UsageTotals) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.cache_hits += other.cache_hits;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_tokens += other.total_tokens;
        self.cost_usd += other.cost_usd;
        self.unpriced_requests += other.unpriced_requests;
        self.guardrail_findings += other.guardrail_findings;
    }
}

/// The key of a minute row: calls are added up per UTC minute, tenant, subject and public
/// model (the dimensions [`super::UsageQuery`] filters and groups by).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MinuteKey {
    /// Unix milliseconds of the minute's start.
    pub minute_ms: i64,
    pub tenant: TenantId,
    pub subject: Arc<str>,
    pub model: String,
}

impl MinuteKey {
    /// The minute `record` ended in, moving its strings into the key.
    pub fn of(record: UsageRecord) -> MinuteKey {
        MinuteKey {
            minute_ms: minute_start_ms(record.at),
            tenant: record.tenant,
            subject: record.subject,
            model: record.model,
        }
    }

    pub fn minute(&self) -> SystemTime {
        from_unix_millis(self.minute_ms)
    }
}

/// Unix milliseconds of the start of the UTC minute holding `at`.
pub fn minute_start_ms(at: SystemTime) -> i64 {
    unix_millis(at).div_euclid(MINUTE_MS) * MINUTE_MS
}

/// One row of per-minute usage, as written to a [`super::UsageStore`]. A store adds the
/// totals to those already stored for the key, so that several flushes, or several gateway
/// instances, writing the same minute add up.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageMinute {
    pub key: MinuteKey,
    pub totals: UsageTotals,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Usage;
    use std::time::{Duration, UNIX_EPOCH};

    fn record(
        status: u16,
        cost: Option<f64>,
        usage: Option<Usage>,
        cache_hit: bool,
    ) -> UsageRecord {
        UsageRecord {
            request_id: "r".into(),
            at: UNIX_EPOCH + Duration::from_millis(3 * MINUTE_MS as u64 + 59_999),
            tenant: TenantId::new("acme"),
            subject: "key_1".into(),
            endpoint: "chat.completions",
            model: "gpt".into(),
            provider: None,
            upstream_model: None,
            usage,
            cost_usd: cost,
            saved_cost_usd: None,
            status,
            latency: Duration::ZERO,
            upstream_latency: None,
            time_to_first_token: None,
            stream: false,
            cache_hit,
            cancelled: false,
            batch_id: None,
            quality: None,
            task: None,
            route_reason: None,
            guardrail_findings: Default::default(),
        }
    }

    #[test]
    fn totals_count_errors_hits_tokens_and_unpriced_calls() {
        let mut totals = UsageTotals::default();
        totals.add_record(&record(200, Some(0.25), Some(Usage::new(10, 5)), false));
        totals.add_record(&record(429, None, None, false));
        totals.add_record(&record(200, Some(0.0), Some(Usage::new(3, 4)), true));
        let expected = UsageTotals {
            requests: 3,
            errors: 1,
            cache_hits: 1,
            prompt_tokens: 13,
            completion_tokens: 9,
            total_tokens: 22,
            cost_usd: 0.25,
            unpriced_requests: 1,
            guardrail_findings: 0,
        };
        assert_eq!(totals, expected);
        let mut twice = totals;
        twice.merge(&totals);
        assert_eq!(
            (twice.requests, twice.total_tokens, twice.cost_usd),
            (6, 44, 0.5)
        );
    }

    #[test]
    fn a_record_belongs_to_the_minute_it_ended_in() {
        let key = MinuteKey::of(record(200, None, None, false));
        assert_eq!(key.minute_ms, 3 * MINUTE_MS);
        assert_eq!(key.minute(), UNIX_EPOCH + Duration::from_secs(180));
        assert_eq!(
            (&*key.tenant.0, &*key.subject, key.model.as_str()),
            ("acme", "key_1", "gpt")
        );
        // Before 1970 the minute still starts at or before the instant.
        assert_eq!(
            minute_start_ms(UNIX_EPOCH - Duration::from_millis(1)),
            -MINUTE_MS
        );
    }
}
