//! Per-minute usage totals: writes add up per key, and the usage aggregates count them
//! together with the per-call records.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gateway_core::TenantId;
use gateway_core::store::{
    MinuteKey, UsageAggregate, UsageDimension, UsageMinute, UsageQuery, UsageStore, UsageTotals,
    unix_millis,
};

use crate::harness::Harness;
use crate::usage::{DAY, assert_totals, close, day0, rec};

fn minute(
    tenant: &str,
    subject: &str,
    model: &str,
    at: SystemTime,
    totals: UsageTotals,
) -> UsageMinute {
    UsageMinute {
        key: MinuteKey {
            minute_ms: unix_millis(at),
            tenant: TenantId::new(tenant),
            subject: Arc::from(subject),
            model: model.to_owned(),
        },
        totals,
    }
}

/// `requests` calls, one of them failed and one unpriced, 10 prompt and 5 completion tokens
/// each, $0.01 per priced call.
fn calls(requests: u64) -> UsageTotals {
    UsageTotals {
        requests,
        errors: 1,
        cache_hits: 0,
        prompt_tokens: 10 * requests,
        completion_tokens: 5 * requests,
        total_tokens: 15 * requests,
        cost_usd: 0.01 * (requests - 1) as f64,
        unpriced_requests: 1,
        guardrail_findings: 0,
    }
}

pub async fn minutes_add_up_across_writes(h: &Harness) {
    let at = day0() + Duration::from_secs(600);
    h.store
        .add_usage_minutes(&[minute("acme", "key_1", "gpt-4o", at, calls(3))])
        .await
        .unwrap();
    // A second flush, or a second instance, writing the same minute adds to it.
    let mut hit = calls(2);
    hit.cache_hits = 2;
    h.store
        .add_usage_minutes(&[
            minute("acme", "key_1", "gpt-4o", at, hit),
            minute(
                "acme",
                "key_1",
                "gpt-4o",
                at + Duration::from_secs(60),
                calls(4),
            ),
        ])
        .await
        .unwrap();
    h.store.add_usage_minutes(&[]).await.unwrap();
    let all = h.store.query_usage(&UsageQuery::default()).await.unwrap();
    assert_totals(
        &all[0].totals,
        UsageTotals {
            requests: 9,
            errors: 3,
            cache_hits: 2,
            prompt_tokens: 90,
            completion_tokens: 45,
            total_tokens: 135,
            cost_usd: 0.06,
            unpriced_requests: 3,
            guardrail_findings: 0,
        },
    );
    let by_minute = h
        .store
        .query_usage(&UsageQuery {
            from: Some(at),
            until: Some(at + Duration::from_secs(60)),
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_minute[0].totals.requests, 5);
}

/// Records and minutes answer one query: filters and groups apply to both.
pub async fn aggregates_count_records_and_minutes_together(h: &Harness) {
    let t0 = day0() + Duration::from_secs(3600);
    h.store
        .insert_usage(&[
            rec("acme", "key_1", "gpt-4o", t0, (100, 50), Some(0.5)),
            rec("beta", "key_9", "claude", t0 + DAY, (7, 3), None),
        ])
        .await
        .unwrap();
    h.store
        .add_usage_minutes(&[
            minute("acme", "key_1", "gpt-4o", t0, calls(4)),
            minute("acme", "key_2", "gpt-4o", t0 + DAY, calls(2)),
            minute("beta", "key_9", "claude", t0 + DAY, calls(3)),
        ])
        .await
        .unwrap();

    let q = |q: UsageQuery| async move { h.store.query_usage(&q).await.unwrap() };
    let all = q(UsageQuery::default()).await.remove(0);
    assert_eq!(
        (
            all.totals.requests,
            all.totals.errors,
            all.totals.unpriced_requests
        ),
        (11, 3, 4)
    );
    assert_eq!(all.totals.prompt_tokens, 100 + 7 + 10 * 9);
    assert!(
        close(all.totals.cost_usd, 0.5 + 0.01 * 6.0),
        "{}",
        all.totals.cost_usd
    );

    let acme = q(UsageQuery {
        tenant: Some(TenantId::new("acme")),
        subject: Some("key_1".into()),
        ..UsageQuery::default()
    })
    .await
    .remove(0);
    assert_eq!((acme.totals.requests, acme.totals.prompt_tokens), (5, 140));
    let claude = q(UsageQuery {
        model: Some("claude".into()),
        from: Some(day0() + DAY),
        ..UsageQuery::default()
    })
    .await
    .remove(0);
    assert_eq!(claude.totals.requests, 4);

    let groups = q(UsageQuery {
        group_by: vec![UsageDimension::Day, UsageDimension::Tenant],
        ..UsageQuery::default()
    })
    .await;
    let keys: Vec<(SystemTime, String, u64)> = groups
        .iter()
        .map(|g| {
            (
                g.day.unwrap(),
                g.tenant.clone().unwrap().to_string(),
                g.totals.requests,
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (day0(), "acme".to_owned(), 5),
            (day0() + DAY, "acme".to_owned(), 2),
            (day0() + DAY, "beta".to_owned(), 4),
        ]
    );
    assert!(
        groups
            .iter()
            .all(|g| g.model.is_none() && g.subject.is_none())
    );
    let ghost = q(UsageQuery {
        tenant: Some(TenantId::new("ghost")),
        ..UsageQuery::default()
    })
    .await;
    assert_eq!(ghost, [UsageAggregate::default()]);
}

/// Retention removes the minutes that started before the cutoff along with the records.
pub async fn retention_deletes_older_minutes(h: &Harness) {
    let cutoff = day0() + DAY;
    h.store
        .insert_usage(&[rec("acme", "key_1", "gpt-4o", day0(), (1, 1), None)])
        .await
        .unwrap();
    h.store
        .add_usage_minutes(&[
            minute("acme", "key_1", "gpt-4o", day0(), calls(2)),
            minute(
                "acme",
                "key_1",
                "gpt-4o",
                cutoff - Duration::from_secs(60),
                calls(3),
            ),
            minute("acme", "key_1", "gpt-4o", cutoff, calls(4)),
        ])
        .await
        .unwrap();
    assert_eq!(h.store.delete_usage_before(cutoff).await.unwrap(), 3);
    let left = h.store.query_usage(&UsageQuery::default()).await.unwrap();
    assert_eq!(left[0].totals.requests, 4);
    assert_eq!(h.store.delete_usage_before(cutoff).await.unwrap(), 0);
}
