//! Usage: batched inserts and aggregates by tenant, subject, model and day.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gateway_core::phases::account::UsageRecord;
use gateway_core::phases::guard::{FindingTally, GuardKinds};
use gateway_core::store::{UsageAggregate, UsageDimension, UsageQuery, UsageStore, UsageTotals};
use gateway_core::{TenantId, Usage};

use crate::harness::Harness;

pub const DAY: Duration = Duration::from_secs(86_400);

/// 2026-01-10T00:00:00Z
pub fn day0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_768_003_200)
}

pub fn rec(
    tenant: &str,
    subject: &str,
    model: &str,
    at: SystemTime,
    tokens: (u64, u64),
    cost: Option<f64>,
) -> UsageRecord {
    UsageRecord {
        request_id: Arc::from("req"),
        at,
        tenant: TenantId::new(tenant),
        subject: Arc::from(subject),
        endpoint: "chat.completions",
        model: model.to_owned(),
        provider: Some(Arc::from("openai")),
        upstream_model: Some(Arc::from("gpt-4o-2024-08-06")),
        usage: Some(Usage::new(tokens.0, tokens.1)),
        cost_usd: cost,
        status: 200,
        latency: Duration::from_millis(120),
        time_to_first_token: Some(Duration::from_millis(40)),
        stream: false,
        cache_hit: false,
        saved_cost_usd: None,
        upstream_latency: None,
        cancelled: false,
        batch_id: None,
        quality: None,
        task: None,
        route_reason: None,
        guardrail_findings: Default::default(),
    }
}

async fn seed(h: &Harness) {
    let t0 = day0() + Duration::from_secs(3600);
    let mut failed = rec("acme", "key_1", "gpt-4o", t0, (0, 0), None);
    failed.status = 502;
    failed.usage = None;
    let mut cached = rec("acme", "key_2", "claude", t0 + DAY, (10, 5), Some(0.0));
    cached.cache_hit = true;
    let batch = vec![
        rec("acme", "key_1", "gpt-4o", t0, (100, 50), Some(0.01)),
        rec(
            "acme",
            "key_1",
            "gpt-4o",
            t0 + Duration::from_secs(60),
            (200, 100),
            Some(0.02),
        ),
        failed,
        cached,
        rec("beta", "key_9", "gpt-4o", t0 + DAY, (1000, 0), None),
    ];
    h.store.insert_usage(&batch).await.unwrap();
}

fn totals(requests: u64, prompt: u64, completion: u64, cost: f64) -> UsageTotals {
    UsageTotals {
        requests,
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        cost_usd: cost,
        ..UsageTotals::default()
    }
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Every total as `want`, the cost (a sum of prices) within float rounding.
pub fn assert_totals(got: &UsageTotals, want: UsageTotals) {
    assert!(close(got.cost_usd, want.cost_usd), "{got:?} != {want:?}");
    assert_eq!(
        UsageTotals {
            cost_usd: want.cost_usd,
            ..*got
        },
        want
    );
}

pub async fn usage_totals_and_groups(h: &Harness) {
    seed(h).await;
    let all = h.store.query_usage(&UsageQuery::default()).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_totals(
        &all[0].totals,
        UsageTotals {
            requests: 5,
            errors: 1,
            cache_hits: 1,
            prompt_tokens: 1310,
            completion_tokens: 155,
            total_tokens: 1465,
            cost_usd: 0.03,
            unpriced_requests: 2,
            guardrail_findings: 0,
        },
    );

    let by_tenant = h
        .store
        .query_usage(&UsageQuery {
            group_by: vec![UsageDimension::Tenant],
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    let tenants: Vec<_> = by_tenant
        .iter()
        .map(|g| (g.tenant.clone().unwrap().to_string(), g.totals.requests))
        .collect();
    assert_eq!(tenants, [("acme".to_owned(), 4), ("beta".to_owned(), 1)]);
    assert!(
        by_tenant
            .iter()
            .all(|g| g.model.is_none() && g.day.is_none() && g.subject.is_none())
    );

    let q = UsageQuery {
        group_by: vec![
            UsageDimension::Day,
            UsageDimension::Model,
            UsageDimension::Subject,
        ],
        ..UsageQuery::default()
    };
    let groups = h.store.query_usage(&q).await.unwrap();
    let keys: Vec<_> = groups
        .iter()
        .map(|g| {
            (
                g.day.unwrap(),
                g.model.clone().unwrap(),
                g.subject.clone().unwrap(),
                g.totals.requests,
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (day0(), "gpt-4o".to_owned(), "key_1".to_owned(), 3),
            (day0() + DAY, "claude".to_owned(), "key_2".to_owned(), 1),
            (day0() + DAY, "gpt-4o".to_owned(), "key_9".to_owned(), 1),
        ]
    );
    let first = &groups[0];
    // Not grouped by tenant: no tenant in the group.
    assert_eq!(first.tenant, None);
    assert_eq!(
        UsageTotals {
            errors: 0,
            unpriced_requests: 0,
            ..first.totals
        },
        totals(3, 300, 150, first.totals.cost_usd)
    );
    assert_eq!(
        (first.totals.errors, first.totals.unpriced_requests),
        (1, 1)
    );
}

pub async fn usage_filters(h: &Harness) {
    seed(h).await;
    let q = |q: UsageQuery| async move { h.store.query_usage(&q).await.unwrap().remove(0) };
    let acme = q(UsageQuery {
        tenant: Some(TenantId::new("acme")),
        ..UsageQuery::default()
    })
    .await;
    assert_eq!(acme.totals.requests, 4);
    let key1 = q(UsageQuery {
        subject: Some("key_1".into()),
        ..UsageQuery::default()
    })
    .await;
    assert_eq!(key1.totals.requests, 3);
    let gpt = q(UsageQuery {
        model: Some("gpt-4o".into()),
        ..UsageQuery::default()
    })
    .await;
    assert_eq!(gpt.totals.requests, 4);
    // `from` inclusive, `until` exclusive.
    let day_one = q(UsageQuery {
        from: Some(day0()),
        until: Some(day0() + DAY),
        ..UsageQuery::default()
    })
    .await;
    assert_eq!(day_one.totals.requests, 3);
    let day_two = q(UsageQuery {
        from: Some(day0() + DAY),
        ..UsageQuery::default()
    })
    .await;
    assert_eq!(day_two.totals.requests, 2);
    let none = q(UsageQuery {
        tenant: Some(TenantId::new("ghost")),
        ..UsageQuery::default()
    })
    .await;
    assert_eq!(none, UsageAggregate::default());
    let grouped_none = h
        .store
        .query_usage(&UsageQuery {
            tenant: Some(TenantId::new("ghost")),
            group_by: vec![UsageDimension::Model],
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    assert!(grouped_none.is_empty());
}

pub async fn empty_usage(h: &Harness) {
    h.store.insert_usage(&[]).await.unwrap();
    let all = h.store.query_usage(&UsageQuery::default()).await.unwrap();
    assert_eq!(all, [UsageAggregate::default()]);
}

/// A batch larger than one multi-row statement: every record lands, with its own values, in
/// one transaction.
pub async fn large_batch_spans_several_statements(h: &Harness) {
    let t0 = day0();
    let batch: Vec<UsageRecord> = (0..300u64)
        .map(|i| {
            let tenant = if i % 3 == 0 { "acme" } else { "beta" };
            let mut r = rec(tenant, "key_1", "gpt-4o", t0, (i, 2 * i), Some(0.001));
            r.stream = i % 2 == 0;
            r.status = if i == 299 { 500 } else { 200 };
            r
        })
        .collect();
    h.store.insert_usage(&batch).await.unwrap();
    let q = |q: UsageQuery| async move { h.store.query_usage(&q).await.unwrap().remove(0) };
    let all = q(UsageQuery::default()).await;
    assert_eq!((all.totals.requests, all.totals.errors), (300, 1));
    let prompt: u64 = (0..300).sum();
    assert_eq!(
        (all.totals.prompt_tokens, all.totals.completion_tokens),
        (prompt, 2 * prompt)
    );
    assert!(close(all.totals.cost_usd, 0.3), "{}", all.totals.cost_usd);
    let acme = q(UsageQuery {
        tenant: Some(TenantId::new("acme")),
        ..UsageQuery::default()
    })
    .await;
    let acme_prompt: u64 = (0..300).filter(|i| i % 3 == 0).sum();
    assert_eq!(
        (acme.totals.requests, acme.totals.prompt_tokens),
        (100, acme_prompt)
    );
}

/// Retention: only records strictly before the cutoff go, across several delete chunks.
pub async fn retention_deletes_only_older_records(h: &Harness) {
    let cutoff = day0() + DAY;
    // More than one chunk of expired rows (the store deletes 5,000 per statement).
    let mut batch: Vec<UsageRecord> = (0..5_001u64)
        .map(|i| {
            rec(
                "acme",
                "key_1",
                "gpt-4o",
                day0() + Duration::from_secs(i),
                (1, 1),
                None,
            )
        })
        .collect();
    batch.push(rec("acme", "key_1", "gpt-4o", cutoff, (10, 0), None));
    batch.extend((0..3).map(|_| rec("beta", "key_2", "gpt-4o", cutoff + DAY, (100, 0), None)));
    h.store.insert_usage(&batch).await.unwrap();

    assert_eq!(h.store.delete_usage_before(cutoff).await.unwrap(), 5_001);
    let left = h.store.query_usage(&UsageQuery::default()).await.unwrap();
    assert_eq!(
        (left[0].totals.requests, left[0].totals.prompt_tokens),
        (4, 310)
    );
    // Nothing left to expire: a second pass deletes nothing.
    assert_eq!(h.store.delete_usage_before(cutoff).await.unwrap(), 0);
}

/// A redacted prompt, a blocked one and a clean call: each record keeps its count and kinds,
/// and the aggregates (per-call records and per-minute totals together) add the counts up.
pub async fn guardrail_findings_are_stored_and_summed(h: &Harness) {
    let t0 = day0() + Duration::from_secs(3600);
    let mut redacted = rec("acme", "key_1", "gpt-4o", t0, (10, 5), Some(0.01));
    redacted.request_id = Arc::from("req-redacted");
    redacted.guardrail_findings = FindingTally {
        count: 2,
        kinds: GuardKinds::of("pii").union(GuardKinds::of("secrets")),
    };
    let mut blocked = rec("acme", "key_1", "gpt-4o", t0, (0, 0), None);
    blocked.request_id = Arc::from("req-blocked");
    blocked.status = 422;
    blocked.usage = None;
    blocked.guardrail_findings = FindingTally {
        count: 1,
        kinds: GuardKinds::of("injection"),
    };
    let clean = rec("acme", "key_2", "gpt-4o", t0, (10, 5), Some(0.01));
    h.store
        .insert_usage(&[redacted, blocked, clean])
        .await
        .unwrap();
    let kinds = |id: &str| {
        format!(
            "SELECT COALESCE(guardrail_kinds, '-') || ':' || CAST(guardrail_findings AS TEXT) \
             FROM usage_records WHERE request_id = '{id}'"
        )
    };
    assert_eq!(
        h.raw_scalar_text(&kinds("req-redacted")).await,
        "pii,secrets:2"
    );
    assert_eq!(
        h.raw_scalar_text(&kinds("req-blocked")).await,
        "injection:1"
    );
    assert_eq!(h.raw_scalar_text(&kinds("req")).await, "-:0");

    // A minute of the high-volume path with 4 more findings.
    let mut minute = UsageTotals::default();
    let mut flagged = rec("acme", "key_2", "gpt-4o", t0, (1, 1), Some(0.0));
    flagged.guardrail_findings.count = 4;
    minute.add_record(&flagged);
    h.store
        .add_usage_minutes(&[gateway_core::store::UsageMinute {
            key: gateway_core::store::MinuteKey::of(flagged),
            totals: minute,
        }])
        .await
        .unwrap();
    let by_subject = h
        .store
        .query_usage(&UsageQuery {
            group_by: vec![UsageDimension::Subject],
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    let found: Vec<(String, u64)> = by_subject
        .iter()
        .map(|g| (g.subject.clone().unwrap(), g.totals.guardrail_findings))
        .collect();
    assert_eq!(found, [("key_1".to_owned(), 3), ("key_2".to_owned(), 4)]);
}
