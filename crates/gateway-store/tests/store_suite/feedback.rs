//! Quality and feedback (migration 0013): the usage record's quality, task and route reason
//! round trip into the reports; feedback is found by (tenant, request id) only, replaced when
//! given again, listed with filters, summarised per model, deployment and task, its comment
//! sealed when a keyring is set, and deleted with the usage by retention.

use std::sync::Arc;
use std::time::Duration;

use gateway_core::TenantId;
use gateway_core::features::{QualityFlag, QualityRecord, TaskType};
use gateway_core::store::{
    Feedback, FeedbackDimension, FeedbackQuery, FeedbackStore, RatedCall, Tenant, TenantStore,
    UsageDimension, UsageQuery, UsageStore,
};
use gateway_store::{Keyring, LocalKek};

use crate::harness::Harness;
use crate::usage::{day0, rec};

fn scored(
    tenant: &str,
    request_id: &str,
    model: &str,
    task: Option<TaskType>,
    q: Option<f32>,
) -> gateway_core::phases::account::UsageRecord {
    let mut r = rec(tenant, "key_1", model, day0(), (10, 5), Some(0.001));
    r.request_id = Arc::from(request_id);
    r.task = task;
    r.route_reason = task.map(|t| Arc::from(format!("rule=r task={t} -> {model}")));
    r.quality = q.map(|score| QualityRecord {
        score,
        flags: if score < 1.0 {
            vec![QualityFlag::Truncated]
        } else {
            vec![]
        },
    });
    r
}

async fn seed(h: &Harness) {
    h.store
        .insert_usage(&[
            scored("acme", "r1", "auto", Some(TaskType::Code), Some(1.0)),
            scored("acme", "r2", "auto", Some(TaskType::Code), Some(0.6)),
            scored("acme", "r3", "auto", Some(TaskType::Math), Some(0.5)),
            scored("acme", "r4", "gpt-4o", None, None),
            scored("beta", "b1", "auto", Some(TaskType::Code), Some(1.0)),
        ])
        .await
        .unwrap();
}

fn feedback(tenant: &str, request_id: &str, score: f64, call: RatedCall) -> Feedback {
    Feedback {
        tenant: TenantId::new(tenant),
        request_id: request_id.to_owned(),
        subject: "key_1".to_owned(),
        at: day0() + Duration::from_secs(60),
        score,
        tags: vec!["helpful".to_owned()],
        comment: Some("the answer was right".to_owned()),
        call,
    }
}

async fn give(h: &Harness, tenant: &str, request_id: &str, score: f64) {
    let t = TenantId::new(tenant);
    let call = h.store.rated_call(&t, request_id).await.unwrap().unwrap();
    h.store
        .put_feedback(&feedback(tenant, request_id, score, call))
        .await
        .unwrap();
}

pub async fn usage_reports_carry_quality_and_task(h: &Harness) {
    seed(h).await;
    let rows = h
        .store
        .query_usage(&UsageQuery {
            tenant: Some(TenantId::new("acme")),
            group_by: vec![UsageDimension::Model, UsageDimension::Task],
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    let row = |model: &str, task: Option<&str>| {
        rows.iter()
            .find(|r| r.model.as_deref() == Some(model) && r.task.as_deref() == task)
            .unwrap_or_else(|| panic!("no row {model} {task:?} in {rows:?}"))
    };
    let code = row("auto", Some("code"));
    assert_eq!((code.totals.requests, code.scored_requests), (2, 2));
    assert!((code.mean_quality.unwrap() - 0.8).abs() < 1e-6, "{code:?}");
    assert_eq!(row("auto", Some("math")).mean_quality, Some(0.5));
    let plain = row("gpt-4o", None);
    assert_eq!((plain.totals.requests, plain.scored_requests), (1, 0));
    assert_eq!(plain.mean_quality, None);
    // The flags and the route reason are stored with the record.
    let flags = h
        .raw_scalar_text("SELECT quality_flags FROM usage_records WHERE request_id = 'r2'")
        .await;
    assert_eq!(flags, "truncated");
    let reason = h
        .raw_scalar_text("SELECT route_reason FROM usage_records WHERE request_id = 'r3'")
        .await;
    assert_eq!(reason, "rule=r task=math -> auto");
}

pub async fn feedback_is_scoped_replaced_listed_and_summarised(h: &Harness) {
    seed(h).await;
    let acme = TenantId::new("acme");
    // Another tenant's call and an unknown one are not found.
    assert_eq!(h.store.rated_call(&acme, "b1").await.unwrap(), None);
    assert_eq!(h.store.rated_call(&acme, "nope").await.unwrap(), None);
    let call = h.store.rated_call(&acme, "r2").await.unwrap().unwrap();
    assert_eq!(call.model, "auto");
    assert_eq!(call.task.as_deref(), Some("code"));
    assert_eq!(call.provider.as_deref(), Some("openai"));
    assert!((call.quality.unwrap() - 0.6).abs() < 1e-6);

    give(h, "acme", "r1", 1.0).await;
    give(h, "acme", "r2", 1.0).await;
    give(h, "acme", "r2", 0.0).await; // replaces the first
    give(h, "acme", "r3", 0.5).await;
    give(h, "acme", "r4", 1.0).await;
    give(h, "beta", "b1", 0.0).await;

    let all = h
        .store
        .list_feedback(&FeedbackQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 5, "{all:?}");
    let mine = h
        .store
        .list_feedback(&FeedbackQuery {
            tenant: Some(acme.clone()),
            task: Some("code".into()),
            ..FeedbackQuery::default()
        })
        .await
        .unwrap();
    let mut ids: Vec<&str> = mine.iter().map(|f| f.request_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["r1", "r2"]);
    let r2 = mine.iter().find(|f| f.request_id == "r2").unwrap();
    assert_eq!(r2.score, 0.0);
    assert_eq!(r2.tags, ["helpful"]);
    assert_eq!(r2.comment.as_deref(), Some("the answer was right"));
    let limited = h
        .store
        .list_feedback(&FeedbackQuery {
            limit: Some(2),
            ..FeedbackQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);

    let summary = h
        .store
        .summarize_feedback(
            &FeedbackQuery {
                tenant: Some(acme.clone()),
                ..FeedbackQuery::default()
            },
            &[FeedbackDimension::Model, FeedbackDimension::Task],
        )
        .await
        .unwrap();
    let code = summary
        .iter()
        .find(|a| a.task.as_deref() == Some("code"))
        .unwrap();
    assert_eq!(code.model.as_deref(), Some("auto"));
    assert_eq!((code.count, code.positive, code.negative), (2, 1, 1));
    assert!((code.mean_score - 0.5).abs() < 1e-9);
    assert!((code.mean_quality.unwrap() - 0.8).abs() < 1e-6);
    let unclassified = summary.iter().find(|a| a.task.is_none()).unwrap();
    assert_eq!(unclassified.model.as_deref(), Some("gpt-4o"));
    assert_eq!(unclassified.mean_quality, None);
    let by_deployment = h
        .store
        .summarize_feedback(&FeedbackQuery::default(), &[FeedbackDimension::Deployment])
        .await
        .unwrap();
    assert_eq!(by_deployment.len(), 1);
    assert_eq!(by_deployment[0].provider.as_deref(), Some("openai"));
    assert_eq!(by_deployment[0].count, 5);
    let nothing = h
        .store
        .summarize_feedback(
            &FeedbackQuery {
                tenant: Some(TenantId::new("nobody")),
                ..FeedbackQuery::default()
            },
            &[],
        )
        .await
        .unwrap();
    assert_eq!(nothing.len(), 1);
    assert_eq!(nothing[0].count, 0);

    // Retention takes feedback with the usage it rates.
    let deleted = h
        .store
        .delete_usage_before(day0() + Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(deleted, 10);
    assert!(
        h.store
            .list_feedback(&FeedbackQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn feedback_comments_are_sealed(h: &Harness) {
    let kek = Arc::new(LocalKek::new(("k1", &[7u8; 32]), &[]).unwrap());
    let keyring = Arc::new(Keyring::new(&h.store, kek, Duration::from_secs(60)));
    h.store.set_keyring(keyring);
    h.store
        .create_tenant(&Tenant::new(TenantId::new("acme"), "Acme"))
        .await
        .unwrap();
    seed(h).await;
    give(h, "acme", "r1", 1.0).await;
    let raw = h
        .raw_scalar_text("SELECT comment FROM feedback WHERE request_id = 'r1'")
        .await;
    assert!(!raw.contains("answer"), "stored in the clear: {raw}");
    let listed = h
        .store
        .list_feedback(&FeedbackQuery::default())
        .await
        .unwrap();
    assert_eq!(listed[0].comment.as_deref(), Some("the answer was right"));
}

/// The LLM judge's score (migration 0015): set on a stored record by tenant and request id
/// only, and averaged over the judged calls in the reports.
pub async fn judge_scores_land_on_their_records_and_in_reports(h: &Harness) {
    seed(h).await;
    let acme = TenantId::new("acme");
    assert!(h.store.set_judge_score(&acme, "r1", 0.9).await.unwrap());
    assert!(h.store.set_judge_score(&acme, "r2", 0.5).await.unwrap());
    // Another tenant's call, or one not stored (yet): nothing is set.
    assert!(!h.store.set_judge_score(&acme, "b1", 0.1).await.unwrap());
    assert!(!h.store.set_judge_score(&acme, "nope", 0.1).await.unwrap());
    let rows = h
        .store
        .query_usage(&UsageQuery {
            tenant: Some(acme.clone()),
            group_by: vec![UsageDimension::Task],
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    let code = rows
        .iter()
        .find(|r| r.task.as_deref() == Some("code"))
        .unwrap();
    assert_eq!(code.judged_requests, 2);
    assert!(
        (code.mean_judge_score.unwrap() - 0.7).abs() < 1e-6,
        "{code:?}"
    );
    let math = rows
        .iter()
        .find(|r| r.task.as_deref() == Some("math"))
        .unwrap();
    assert_eq!((math.judged_requests, math.mean_judge_score), (0, None));
    let beta = h
        .store
        .query_usage(&UsageQuery {
            tenant: Some(TenantId::new("beta")),
            ..UsageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(beta[0].judged_requests, 0);
}
