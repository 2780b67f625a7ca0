//! Load-balancing strategies, the policy's TOML shape and the reported deployment state.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use gateway_core::phases::route::Router;
use gateway_core::types::EmbeddingsRequest;
use gateway_providers::{Deployment, ModelGroup, ModelRouter, RoutingPolicy, Strategy};
use support::{Fake, Outcome, ctx, request};

fn router(strategy: Strategy, deployments: Vec<Deployment>) -> ModelRouter {
    let policy = RoutingPolicy {
        strategy,
        ..RoutingPolicy::default()
    };
    ModelRouter::new([ModelGroup::new("m", deployments).with_routing(policy)]).with_seed(42)
}

async fn served_counts(r: &ModelRouter, n: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let out = r.chat(request("m"), &ctx()).await.unwrap();
        *counts
            .entry(out.served_by.provider.to_string())
            .or_default() += 1;
    }
    counts
}

#[tokio::test(start_paused = true)]
async fn weighted_random_follows_the_weights() {
    let (a, b, c) = (Fake::new("a", []), Fake::new("b", []), Fake::new("c", []));
    let r = router(
        Strategy::WeightedRandom,
        vec![
            Deployment::new(a, "x").with_weight(3),
            Deployment::new(b, "x").with_weight(1),
            Deployment::new(c, "x").with_weight(0),
        ],
    );
    let counts = served_counts(&r, 4000).await;
    let share = counts["a"] as f64 / 4000.0;
    assert!((0.72..0.78).contains(&share), "{counts:?}");
    assert!(!counts.contains_key("c"), "weight 0 is a last resort only");
}

#[tokio::test(start_paused = true)]
async fn weight_zero_still_serves_as_last_resort() {
    let a = Fake::new("a", [Outcome::Status(500, None)]);
    let z = Fake::new("z", []);
    let r = router(
        Strategy::WeightedRandom,
        vec![
            Deployment::new(a, "x"),
            Deployment::new(z, "x").with_weight(0),
        ],
    );
    assert_eq!(
        &*r.chat(request("m"), &ctx())
            .await
            .unwrap()
            .served_by
            .provider,
        "z"
    );
}

#[tokio::test(start_paused = true)]
async fn priority_spreads_within_a_tier_and_cascades_across_tiers() {
    let (a, b, c) = (Fake::new("a", []), Fake::new("b", []), Fake::new("c", []));
    let r = router(
        Strategy::Priority,
        vec![
            Deployment::new(c, "x").with_priority(1),
            Deployment::new(a, "x").with_priority(0),
            Deployment::new(b, "x").with_priority(0),
        ],
    );
    let counts = served_counts(&r, 400).await;
    assert!(counts["a"] > 150 && counts["b"] > 150, "{counts:?}");
    assert!(!counts.contains_key("c"));
}

#[tokio::test(start_paused = true)]
async fn least_outstanding_avoids_the_busy_deployment() {
    let (a, b) = (Fake::new("a", []), Fake::new("b", []));
    let r = router(
        Strategy::LeastOutstanding,
        vec![Deployment::new(a, "x"), Deployment::new(b, "x")],
    );
    let held = r.chat_stream(request("m"), &ctx()).await.unwrap();
    let busy = held.served_by.provider.to_string();
    for _ in 0..5 {
        let out = r.chat(request("m"), &ctx()).await.unwrap();
        assert_ne!(out.served_by.provider.to_string(), busy);
    }
    drop(held.value.collect::<Vec<_>>().await);
}

#[tokio::test(start_paused = true)]
async fn least_latency_prefers_the_fast_deployment_once_measured() {
    let slow = Fake::slow("slow", Duration::from_millis(300), []);
    let fast = Fake::slow("fast", Duration::from_millis(20), []);
    let r = router(
        Strategy::LeastLatency,
        vec![
            Deployment::new(slow.clone(), "x"),
            Deployment::new(fast.clone(), "x"),
        ],
    );
    // Unmeasured deployments are explored first, then the lower peak-EWMA wins.
    served_counts(&r, 2).await;
    assert_eq!((slow.calls(), fast.calls()), (1, 1));
    let counts = served_counts(&r, 20).await;
    assert_eq!(counts.get("fast"), Some(&20), "{counts:?}");
    let states = r.deployment_states();
    let latency = |name: &str| {
        states
            .iter()
            .find(|s| &*s.provider == name)
            .unwrap()
            .ewma_latency_ms
            .unwrap()
    };
    assert!((latency("slow") - 300.0).abs() < 1.0 && (latency("fast") - 20.0).abs() < 1.0);
}

#[tokio::test(start_paused = true)]
async fn embeddings_are_routed_with_the_same_rules() {
    let a = Fake::new("a", [Outcome::Status(502, None)]);
    let b = Fake::new("b", []);
    let r = router(
        Strategy::Priority,
        vec![
            Deployment::new(a, "e1"),
            Deployment::new(b, "e2").with_priority(1),
        ],
    );
    let req: EmbeddingsRequest =
        serde_json::from_value(serde_json::json!({"model":"m","input":"x"})).unwrap();
    let out = r.embeddings(req, &ctx()).await.unwrap();
    assert_eq!(
        (out.value.model.as_str(), out.served_by.attempts),
        ("e2", 2)
    );
}

#[test]
fn the_policy_embeds_in_the_app_toml() {
    #[derive(serde::Deserialize)]
    struct Model {
        routing: RoutingPolicy,
    }
    #[derive(serde::Deserialize)]
    struct Config {
        models: HashMap<String, Model>,
    }
    let config: Config = toml::from_str(
        r#"
        [models.gpt-4o.routing]
        strategy = "least_outstanding"
        max_attempts = 4
        base_backoff = "50ms"
        max_backoff = "1s"
        deadline = "30s"
        circuit = { failure_threshold = 3, cooldown = "10s" }

        [models.small.routing]
        "#,
    )
    .unwrap();
    let p = &config.models["gpt-4o"].routing;
    assert_eq!(
        (p.strategy, p.max_attempts, p.base_backoff),
        (Strategy::LeastOutstanding, 4, Duration::from_millis(50))
    );
    assert_eq!(
        (p.circuit.failure_threshold, p.circuit.cooldown),
        (3, Duration::from_secs(10))
    );
    assert_eq!(config.models["small"].routing, RoutingPolicy::default());
    assert!(toml::from_str::<Config>("[models.x.routing]\nstrategy = \"fastest\"").is_err());
    assert!(toml::from_str::<Config>("[models.x.routing]\ndeadline = \"soon\"").is_err());
}

#[tokio::test(start_paused = true)]
async fn deployment_state_serialises_for_the_admin_api() {
    let a = Fake::new("a", []);
    let r = ModelRouter::new([ModelGroup::new(
        "m",
        vec![Deployment::new(a, "up").with_region("eu")],
    )]);
    r.chat(request("m"), &ctx()).await.unwrap();
    let v = serde_json::to_value(r.deployment_states()).unwrap();
    assert_eq!(v[0]["model"], "m");
    assert_eq!(v[0]["provider"], "a");
    assert_eq!(v[0]["region"], "eu");
    assert_eq!(v[0]["circuit"], "closed");
    assert_eq!(v[0]["in_flight"], 0);
    assert_eq!(v[0]["requests"], 1);
    assert!(v[0]["ewma_latency_ms"].is_number());
    assert!(r.deployment_states()[0].available());
}

/// `n` successes, then `failures` upstream 503s, then successes again.
fn ok_then_failing(n: usize, failures: usize) -> Vec<Outcome> {
    std::iter::repeat_n(Outcome::Ok, n)
        .chain(std::iter::repeat_n(Outcome::Status(503, None), failures))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn nearest_prefers_the_fastest_region_and_fails_over_to_the_next() {
    let eu = Fake::slow("eu", Duration::from_millis(80), []);
    let us_a = Fake::slow("us-a", Duration::from_millis(10), ok_then_failing(11, 50));
    let us_b = Fake::slow("us-b", Duration::from_millis(15), ok_then_failing(1, 50));
    let r = router(
        Strategy::Nearest,
        vec![
            Deployment::new(eu.clone(), "x").with_region("eu"),
            Deployment::new(us_a.clone(), "x").with_region("us"),
            Deployment::new(us_b.clone(), "x").with_region("us"),
        ],
    );
    // Every unmeasured region and deployment is explored once, then the fastest region and,
    // within it, its fastest deployment take the traffic.
    served_counts(&r, 3).await;
    assert_eq!((eu.calls(), us_a.calls(), us_b.calls()), (1, 1, 1));
    let counts = served_counts(&r, 10).await;
    assert_eq!(counts.get("us-a"), Some(&10), "{counts:?}");

    // The us region starts failing: each call still succeeds, in eu, and once both us circuits
    // are open the eu region is tried first (one attempt per call).
    let counts = served_counts(&r, 8).await;
    assert_eq!(counts.get("eu"), Some(&8), "{counts:?}");
    let out = r.chat(request("m"), &ctx()).await.unwrap();
    assert_eq!(
        (&*out.served_by.provider, out.served_by.attempts),
        ("eu", 1)
    );
}

#[tokio::test(start_paused = true)]
async fn nearest_never_crosses_a_pinned_residency_boundary() {
    let eu = Fake::new("eu", []);
    let us = Fake::new("us", ok_then_failing(0, 50));
    let r = router(
        Strategy::Nearest,
        vec![
            Deployment::new(eu.clone(), "x").with_region("eu"),
            Deployment::new(us.clone(), "x").with_region("us"),
        ],
    );
    let mut pinned = ctx();
    pinned.constraints.regions = Some(std::sync::Arc::from(vec!["us".to_owned()]));
    for _ in 0..8 {
        assert!(r.chat(request("m"), &pinned).await.is_err());
    }
    assert_eq!(eu.calls(), 0, "a caller pinned to us was served from eu");
    // An unpinned caller fails over to eu.
    let out = r.chat(request("m"), &ctx()).await.unwrap();
    assert_eq!(&*out.served_by.provider, "eu");
}
