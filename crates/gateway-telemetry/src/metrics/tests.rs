use std::collections::BTreeMap;
use std::time::SystemTime;

use gateway_core::types::{CompletionTokensDetails, PromptTokensDetails};
use gateway_core::{AuthFailure, DeniedBy, TenantId, Usage};

use super::*;

/// `name{labels}` -> value, from the text exposition.
pub(crate) fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn record() -> UsageRecord {
    let mut usage = Usage::new(1200, 300);
    usage.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(200),
        ..PromptTokensDetails::default()
    });
    usage.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: Some(50),
        ..CompletionTokensDetails::default()
    });
    UsageRecord {
        request_id: Arc::from("req-secret-looking-id"),
        at: SystemTime::now(),
        tenant: TenantId::new("acme"),
        subject: Arc::from("key_0190abcdef"),
        endpoint: "chat_completions",
        model: "gpt-test".to_owned(),
        provider: Some(Arc::from("openai")),
        upstream_model: Some(Arc::from("gpt-4o-mini")),
        usage: Some(usage),
        cost_usd: Some(0.25),
        saved_cost_usd: None,
        status: 200,
        latency: Duration::from_millis(120),
        upstream_latency: Some(Duration::from_millis(119)),
        time_to_first_token: Some(Duration::from_millis(40)),
        stream: true,
        cache_hit: false,
        cancelled: false,
        batch_id: None,
        quality: None,
        task: None,
        route_reason: None,
        guardrail_findings: Default::default(),
    }
}

#[test]
fn usage_feeds_every_call_series_without_ids() {
    let m = Metrics::new();
    m.observe_usage(&record());
    m.observe_usage(&UsageRecord {
        cost_usd: None,
        cancelled: true,
        ..record()
    });
    let text = m.encode();
    let s = parse(&text);
    let get = |k: &str| {
        s.get(k)
            .copied()
            .unwrap_or_else(|| panic!("missing {k} in\n{text}"))
    };
    assert_eq!(
        get(
            r#"gateway_model_requests_total{route="chat_completions",model="gpt-test",provider="openai",status="200"}"#
        ),
        2.0
    );
    assert_eq!(
        get(r#"gateway_tokens_total{tenant="acme",model="gpt-test",kind="prompt"}"#),
        2400.0
    );
    assert_eq!(
        get(r#"gateway_tokens_total{tenant="acme",model="gpt-test",kind="completion"}"#),
        600.0
    );
    assert_eq!(
        get(r#"gateway_tokens_total{tenant="acme",model="gpt-test",kind="cached"}"#),
        400.0
    );
    assert_eq!(
        get(r#"gateway_tokens_total{tenant="acme",model="gpt-test",kind="reasoning"}"#),
        100.0
    );
    assert_eq!(
        get(r#"gateway_cost_usd_total{tenant="acme",model="gpt-test"}"#),
        0.25
    );
    assert_eq!(
        get(r#"gateway_cost_unpriced_requests_total{model="gpt-test"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gateway_requests_cancelled_total{route="chat_completions",model="gpt-test"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gateway_time_to_first_token_seconds_count{provider="openai",model="gpt-test"}"#),
        2.0
    );
    assert_eq!(
        get(r#"gateway_upstream_duration_seconds_count{provider="openai",model="gpt-test"}"#),
        2.0
    );
    // 1 ms of overhead lands in the 1 ms bucket, not below 0.5 ms.
    assert_eq!(
        get(r#"gateway_overhead_duration_seconds_bucket{le="0.0005",route="chat_completions"}"#),
        0.0
    );
    assert_eq!(
        get(r#"gateway_overhead_duration_seconds_bucket{le="0.001",route="chat_completions"}"#),
        2.0
    );
    assert_eq!(
        get(r#"gateway_request_duration_seconds_count{route="chat_completions",model="gpt-test"}"#),
        2.0
    );
    assert!(
        !text.contains("key_0190abcdef") && !text.contains("req-secret"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));
}

/// Calls of different statuses and tenants have their own cached handles but share the
/// series whose labels they share; a series no call fed is not exposed.
#[test]
fn cached_series_handles_add_up_per_label_set() {
    let m = Metrics::new();
    let plain = UsageRecord {
        time_to_first_token: None,
        stream: false,
        ..record()
    };
    for _ in 0..3 {
        m.observe_usage(&plain);
    }
    m.observe_usage(&UsageRecord {
        status: 502,
        usage: None,
        cost_usd: None,
        ..plain.clone()
    });
    m.observe_usage(&UsageRecord {
        tenant: TenantId::new("beta"),
        ..plain.clone()
    });
    let text = m.encode();
    let s = parse(&text);
    let get = |k: &str| s.get(k).copied().unwrap_or(0.0);
    let calls = |status| {
        get(&format!(
            r#"gateway_model_requests_total{{route="chat_completions",model="gpt-test",provider="openai",status="{status}"}}"#
        ))
    };
    assert_eq!((calls(200), calls(502)), (4.0, 1.0));
    assert_eq!(
        get(r#"gateway_request_duration_seconds_count{route="chat_completions",model="gpt-test"}"#),
        5.0
    );
    assert_eq!(
        get(r#"gateway_tokens_total{tenant="acme",model="gpt-test",kind="prompt"}"#),
        3600.0
    );
    assert_eq!(
        get(r#"gateway_tokens_total{tenant="beta",model="gpt-test",kind="prompt"}"#),
        1200.0
    );
    assert_eq!(
        get(r#"gateway_cost_usd_total{tenant="acme",model="gpt-test"}"#),
        0.75
    );
    assert!(!text.contains("gateway_time_to_first_token"), "{text}");
}

#[test]
fn edge_rejections_and_router_state() {
    let m = Metrics::new();
    let _in_flight = m.http_in_flight();
    m.http_request("/v1/chat/completions", 429);
    m.observe_error(&GatewayError::PolicyBlocked {
        guardrail: "injection".into(),
        rule: "r1".into(),
    });
    m.observe_error(&GatewayError::rate_limited(
        LimitKind::Tokens,
        "Token limit of 1000 per minute exceeded",
        None,
    ));
    m.observe_error(&GatewayError::unauthenticated(
        AuthFailure::Missing,
        "Missing API key.",
    ));
    m.observe_error(&GatewayError::invalid("not counted"));
    m.observe_usage(&UsageRecord {
        status: 422,
        ..record()
    });
    m.set_deployments(vec![DeploymentSnapshot {
        model: "gpt-test".into(),
        provider: Arc::from("openai"),
        upstream_model: Arc::from("gpt-4o-mini"),
        circuit: "open",
        in_flight: 2,
        attempts: 10,
        failures: 4,
    }]);
    let s = parse(&m.encode());
    let get = |k: &str| s.get(k).copied().unwrap_or_else(|| panic!("missing {k}"));
    assert_eq!(get("gateway_http_requests_in_flight"), 1.0);
    assert_eq!(
        get(r#"gateway_http_requests_total{route="/v1/chat/completions",status="429"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gateway_guardrail_blocks_total{guardrail="injection"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gateway_guardrail_blocks_total{guardrail="stream_output"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gateway_limit_rejections_total{limit="tokens"}"#),
        1.0
    );
    assert_eq!(get(r#"gateway_auth_failures_total{reason="missing"}"#), 1.0);
    let d = r#"model="gpt-test",provider="openai",upstream_model="gpt-4o-mini""#;
    assert_eq!(
        get(&format!(
            "gateway_upstream_circuit_state{{{d},state=\"open\"}}"
        )),
        1.0
    );
    assert_eq!(
        get(&format!(
            "gateway_upstream_circuit_state{{{d},state=\"closed\"}}"
        )),
        0.0
    );
    assert_eq!(
        get(&format!("gateway_upstream_in_flight_requests{{{d}}}")),
        2.0
    );
    assert_eq!(
        get(&format!("gateway_upstream_attempts_total{{{d}}}")),
        10.0
    );
    assert_eq!(get(&format!("gateway_upstream_errors_total{{{d}}}")), 4.0);
    m.set_external(vec![
        Sample::counter("gateway_limits_rejected", "Rejected.", 7),
        Sample::counter("gateway_cache_lookups", "Lookups.", 3).with_label("result", "hit"),
        Sample::counter("gateway_cache_lookups", "Lookups.", 5).with_label("result", "miss"),
        Sample::gauge("gateway_limits_backend_down", "Down.", 0.0),
    ]);
    let s = parse(&m.encode());
    assert_eq!(s["gateway_limits_rejected_total"], 7.0);
    assert_eq!(s[r#"gateway_cache_lookups_total{result="miss"}"#], 5.0);
    assert_eq!(s["gateway_limits_backend_down"], 0.0);
    drop(_in_flight);
    assert_eq!(parse(&m.encode())["gateway_http_requests_in_flight"], 0.0);
}

/// The labels come from the typed fields of the refusal, never from its message: each
/// message here names a different kind than the field, and the field wins.
#[test]
fn refusal_labels_come_from_typed_fields() {
    let m = Metrics::new();
    let kinds = [
        (LimitKind::Requests, "requests"),
        (LimitKind::Tokens, "tokens"),
        (LimitKind::Concurrency, "concurrency"),
        (LimitKind::Budget, "budget"),
        (LimitKind::Upstream, "upstream"),
    ];
    for (kind, _) in kinds {
        m.observe_error(&GatewayError::rate_limited(
            kind,
            "Budget exhausted: too many tokens in flight (concurrency).",
            None,
        ));
    }
    m.observe_error(&GatewayError::unauthenticated(
        AuthFailure::Invalid,
        "Missing credentials: send a key.",
    ));
    m.observe_error(&GatewayError::unauthenticated(
        AuthFailure::Missing,
        "Invalid credentials.",
    ));
    m.observe_error(&GatewayError::forbidden(
        DeniedBy::Policy {
            rule: Some("no_night".into()),
        },
        "Request denied by policy (rule 'no_night').",
    ));
    let s = parse(&m.encode());
    let get = |k: &str| s.get(k).copied().unwrap_or_else(|| panic!("missing {k}"));
    for (_, label) in kinds {
        assert_eq!(
            get(&format!(
                "gateway_limit_rejections_total{{limit=\"{label}\"}}"
            )),
            1.0,
            "{label}"
        );
    }
    assert_eq!(get(r#"gateway_auth_failures_total{reason="missing"}"#), 1.0);
    assert_eq!(get(r#"gateway_auth_failures_total{reason="invalid"}"#), 1.0);
    assert_eq!(
        get(r#"gateway_auth_failures_total{reason="forbidden"}"#),
        1.0
    );
}

#[test]
fn quality_scores_per_model_and_task_and_flags() {
    use gateway_core::features::{QualityFlag, QualityRecord, TaskType};
    let m = Metrics::new();
    let scored = |task, score, flags: Vec<QualityFlag>| UsageRecord {
        quality: Some(QualityRecord { score, flags }),
        task,
        ..record()
    };
    m.observe_usage(&scored(Some(TaskType::Code), 1.0, vec![]));
    m.observe_usage(&scored(
        Some(TaskType::Code),
        0.3,
        vec![QualityFlag::InvalidJson],
    ));
    m.observe_usage(&scored(None, 0.6, vec![QualityFlag::Truncated]));
    m.observe_usage(&record()); // not scored: no observation
    let text = m.encode();
    let s = parse(&text);
    let get = |k: &str| {
        s.get(k)
            .copied()
            .unwrap_or_else(|| panic!("missing {k} in\n{text}"))
    };
    assert_eq!(
        get(r#"gateway_quality_score_count{model="gpt-test",task="code"}"#),
        2.0
    );
    assert!((get(r#"gateway_quality_score_sum{model="gpt-test",task="code"}"#) - 1.3).abs() < 1e-6);
    assert_eq!(
        get(r#"gateway_quality_score_bucket{le="0.3",model="gpt-test",task="code"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gateway_quality_score_count{model="gpt-test",task="none"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gateway_quality_flags_total{model="gpt-test",flag="invalid_json"}"#),
        1.0
    );
    assert_eq!(
        get(r#"gateway_quality_flags_total{model="gpt-test",flag="truncated"}"#),
        1.0
    );
    assert!(!text.contains("flag=\"refusal\""));
}
