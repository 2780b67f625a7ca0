//! The facade: one usage record feeds metrics, the store and (for a blocked stream) the
//! audit log; prices come from the shipped table with overrides; refusals map to events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{MemoryStore, metric, usage_record};
use gateway_core::phases::account::{AuditSink, UsageSink};
use gateway_core::store::{AuditOutcome, AuditStore, UsageStore};
use gateway_core::{AuthFailure, DeniedBy, GatewayError, LimitKind, TenantId, Usage};
use gateway_telemetry::events::{Caller, denial_event};
use gateway_telemetry::{Telemetry, TelemetryConfig};

fn start(config: &TelemetryConfig) -> (Arc<MemoryStore>, Arc<Telemetry>) {
    let store = Arc::new(MemoryStore::default());
    let telemetry = Telemetry::start(
        config,
        store.clone() as Arc<dyn UsageStore>,
        Some(store.clone() as Arc<dyn AuditStore>),
    )
    .unwrap();
    (store, telemetry)
}

#[tokio::test]
async fn a_record_reaches_metrics_store_and_audit() {
    let (store, telemetry) = start(&TelemetryConfig::default());
    telemetry.record(usage_record(3));
    let mut blocked = usage_record(4);
    blocked.stream = true;
    blocked.status = 422;
    telemetry.record(blocked);
    telemetry.flush().await;
    assert_eq!(store.records().len(), 2);
    let audit = store.audit.lock().unwrap().clone();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].event.action, "guardrail.block");
    assert_eq!(audit[0].event.actor, "key_1");
    assert_eq!(audit[0].event.details["request_id"], "req-4");
    let text = telemetry.metrics().encode();
    assert_eq!(
        metric(
            &text,
            r#"gateway_tokens_total{tenant="acme",model="gpt-test",kind="prompt"}"#
        ),
        70.0
    );
}

#[tokio::test]
async fn prices_are_overridable_and_prompt_logging_is_per_tenant() {
    let config: TelemetryConfig = serde_json::from_value(serde_json::json!({
        "prices": {"gpt-4o-mini": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}},
        "log_prompts_for_tenants": ["debugging-tenant"],
    }))
    .unwrap();
    let (_, telemetry) = start(&config);
    let cost = telemetry.cost_model().cost_usd(
        "openai",
        "gpt-4o-mini-2024-07-18",
        &Usage::new(1_000_000, 500_000),
    );
    assert_eq!(cost, Some(2.0));
    assert_eq!(
        telemetry
            .cost_model()
            .cost_usd("openai", "mystery-model", &Usage::new(1, 1)),
        None
    );
    assert!(telemetry.logs_prompts_for(&TenantId::new("debugging-tenant")));
    assert!(!telemetry.logs_prompts_for(&TenantId::new("acme")));
    telemetry.audit(common::audit_event("config.reload", "system"));
    telemetry.flush().await;
}

#[test]
fn refusals_become_audit_events() {
    let tenant = TenantId::new("acme");
    let caller = Caller {
        tenant: Some(&tenant),
        subject: Some("key_1"),
        ip: Some("10.0.0.1"),
    };
    let blocked = GatewayError::PolicyBlocked {
        guardrail: "injection".into(),
        rule: "ignore_previous".into(),
    };
    let e = denial_event(&blocked, caller, "req-1", "/v1/chat/completions").unwrap();
    assert_eq!(
        (e.action.as_str(), e.actor.as_str(), e.outcome),
        ("guardrail.block", "key_1", AuditOutcome::Denied)
    );
    assert_eq!(e.details["guardrail"], "injection");
    assert_eq!(e.details["rule"], "ignore_previous");
    assert_eq!(e.ip.as_deref(), Some("10.0.0.1"));
    let anonymous = Caller {
        tenant: None,
        subject: None,
        ip: None,
    };
    let e = denial_event(
        &GatewayError::unauthenticated(AuthFailure::Invalid, "Missing or invalid API key."),
        anonymous,
        "req-2",
        "/v1/messages",
    )
    .unwrap();
    assert_eq!(
        (e.action.as_str(), e.actor.as_str()),
        ("auth.failed", "anonymous")
    );
    assert_eq!(e.details["reason"], "invalid");
    // Each field comes from the error's typed fields: the messages name other kinds.
    let kinds = [
        (LimitKind::Requests, "requests"),
        (LimitKind::Tokens, "tokens"),
        (LimitKind::Concurrency, "concurrency"),
        (LimitKind::Budget, "budget"),
        (LimitKind::Upstream, "upstream"),
    ];
    for (kind, label) in kinds {
        let limited = GatewayError::rate_limited(
            kind,
            "Budget exhausted: too many tokens in flight.",
            Some(std::time::Duration::from_millis(1500)),
        );
        let e = denial_event(&limited, anonymous, "r", "/query").unwrap();
        assert_eq!(e.action, "limit.reject");
        assert_eq!(e.details["limit"], label);
        assert_eq!(e.details["retry_after_ms"], 1500);
    }
    let missing = GatewayError::unauthenticated(AuthFailure::Missing, "Invalid API key.");
    let e = denial_event(&missing, anonymous, "r", "/query").unwrap();
    assert_eq!(e.details["reason"], "missing");
    let denied = GatewayError::forbidden(
        DeniedBy::Policy {
            rule: Some("no_night".into()),
        },
        "Request denied by policy (rule 'no_night').",
    );
    let e = denial_event(&denied, caller, "r", "/query").unwrap();
    assert_eq!(e.action, "authz.denied");
    assert_eq!(e.details["denied_by"], "policy");
    assert_eq!(e.details["rule"], "no_night");
    let region = GatewayError::forbidden(DeniedBy::Region, "No deployment in region.");
    let e = denial_event(&region, caller, "r", "/query").unwrap();
    assert_eq!(e.details["denied_by"], "region");
    assert!(e.details.get("rule").is_none());
    assert!(denial_event(&GatewayError::invalid("bad json"), anonymous, "r", "/query").is_none());
}
