//! Routing rules against scripted in-memory providers, in paused time: fallback, retries with
//! backoff and retry-after, deadlines, non-retryable errors, circuit breaking, streams, regions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use gateway_core::phases::route::{CircuitObserver, CircuitOpened, Router};
use gateway_core::{GatewayError, StreamEvent};
use gateway_providers::router::CircuitStatus;
use gateway_providers::{CircuitConfig, Deployment, ModelGroup, ModelRouter, RoutingPolicy};
use support::{Fake, Outcome, ctx, request};
use tokio::time::Instant;

fn router(policy: RoutingPolicy, deployments: Vec<Deployment>) -> ModelRouter {
    ModelRouter::new([ModelGroup::new("m", deployments).with_routing(policy)]).with_seed(1)
}

fn dep(p: &Arc<Fake>, priority: u32) -> Deployment {
    Deployment::new(p.clone(), "up").with_priority(priority)
}

#[tokio::test(start_paused = true)]
async fn falls_back_to_the_next_priority_on_500() {
    let a = Fake::new("a", [Outcome::Status(500, None)]);
    let b = Fake::new("b", []);
    let r = router(RoutingPolicy::default(), vec![dep(&b, 1), dep(&a, 0)]);
    let started = Instant::now();
    let out = r.chat(request("m"), &ctx()).await.unwrap();
    assert_eq!((&*out.served_by.provider, out.served_by.attempts), ("b", 2));
    assert_eq!(out.value.model, "up", "the upstream model name is sent");
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "a fallback does not back off"
    );
    assert_eq!((a.calls(), b.calls()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn retries_a_429_after_retry_after_then_succeeds() {
    let a = Fake::new("a", [Outcome::Status(429, Some(Duration::from_secs(2)))]);
    let r = router(RoutingPolicy::default(), vec![dep(&a, 0)]);
    let started = Instant::now();
    let out = r.chat(request("m"), &ctx()).await.unwrap();
    assert_eq!(out.served_by.attempts, 2);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_millis(2100),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_deadline_returns_the_429() {
    let a = Fake::new("a", [Outcome::Status(429, Some(Duration::from_secs(120)))]);
    let r = router(RoutingPolicy::default(), vec![dep(&a, 0)]);
    let err = r.chat(request("m"), &ctx()).await.unwrap_err();
    assert!(
        matches!(err, GatewayError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(120))
    );
    assert_eq!(a.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_exponentially_with_jitter_and_attempts_are_bounded() {
    let a = Fake::new(
        "a",
        [
            Outcome::Connect,
            Outcome::Status(503, None),
            Outcome::Status(500, None),
        ],
    );
    let policy = RoutingPolicy {
        max_attempts: 3,
        ..RoutingPolicy::default()
    };
    let r = router(policy, vec![dep(&a, 0)]);
    let started = Instant::now();
    let err = r.chat(request("m"), &ctx()).await.unwrap_err();
    assert_eq!(err.status(), 502);
    assert_eq!(a.calls(), 3);
    // 100ms then 200ms, each with equal jitter: 50..=100 + 100..=200.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited <= Duration::from_millis(300),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_all_attempts() {
    let a = Fake::slow(
        "a",
        Duration::from_millis(400),
        (0..20).map(|_| Outcome::Status(500, None)),
    );
    let policy = RoutingPolicy {
        max_attempts: 20,
        deadline: Duration::from_secs(1),
        ..RoutingPolicy::default()
    };
    let r = router(policy, vec![dep(&a, 0)]);
    let started = Instant::now();
    assert!(r.chat(request("m"), &ctx()).await.is_err());
    assert!(
        started.elapsed() <= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(a.calls() < 4);
}

#[tokio::test(start_paused = true)]
async fn a_slow_upstream_times_out_at_the_deadline() {
    let a = Fake::slow("a", Duration::from_secs(30), []);
    let policy = RoutingPolicy {
        deadline: Duration::from_secs(5),
        ..RoutingPolicy::default()
    };
    let r = router(policy, vec![dep(&a, 0)]);
    let err = r.chat(request("m"), &ctx()).await.unwrap_err();
    assert_eq!(err.status(), 504);
}

#[tokio::test(start_paused = true)]
async fn a_non_retryable_4xx_is_returned_at_once() {
    let a = Fake::new("a", [Outcome::Status(400, None)]);
    let b = Fake::new("b", []);
    let r = router(RoutingPolicy::default(), vec![dep(&a, 0), dep(&b, 1)]);
    let err = r.chat(request("m"), &ctx()).await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(b.calls(), 0);
    assert_eq!(
        r.deployment_states()[0].consecutive_failures,
        0,
        "a 400 is not the deployment's fault"
    );
}

#[tokio::test(start_paused = true)]
async fn the_circuit_opens_skips_probes_after_cooldown_and_closes() {
    let a = Fake::new("a", [Outcome::Status(500, None), Outcome::Connect]);
    let b = Fake::new("b", []);
    let circuit = CircuitConfig {
        failure_threshold: 2,
        cooldown: Duration::from_secs(30),
    };
    let r = router(
        RoutingPolicy {
            circuit,
            ..RoutingPolicy::default()
        },
        vec![dep(&a, 0), dep(&b, 1)],
    );
    for _ in 0..2 {
        assert_eq!(
            &*r.chat(request("m"), &ctx())
                .await
                .unwrap()
                .served_by
                .provider,
            "b"
        );
    }
    let state = &r.deployment_states()[0];
    assert_eq!(
        (state.circuit, state.retry_in_ms),
        (CircuitStatus::Open, Some(30_000))
    );
    // Open: a is skipped, b answers on the first attempt.
    let out = r.chat(request("m"), &ctx()).await.unwrap();
    assert_eq!(
        (&*out.served_by.provider, out.served_by.attempts, a.calls()),
        ("b", 1, 2)
    );
    tokio::time::advance(Duration::from_secs(30)).await;
    // Half-open: one probe goes to a, succeeds, and closes the circuit.
    let out = r.chat(request("m"), &ctx()).await.unwrap();
    assert_eq!((&*out.served_by.provider, a.calls()), ("a", 3));
    let state = &r.deployment_states()[0];
    assert_eq!(
        (state.circuit, state.consecutive_failures, state.failures),
        (CircuitStatus::Closed, 0, 2)
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens_and_all_open_is_503() {
    let opened = Arc::new(Openings::default());
    let a = Fake::new(
        "a",
        [Outcome::Status(500, None), Outcome::Status(500, None)],
    );
    let circuit = CircuitConfig {
        failure_threshold: 1,
        cooldown: Duration::from_secs(10),
    };
    let r = router(
        RoutingPolicy {
            circuit,
            max_attempts: 1,
            ..RoutingPolicy::default()
        },
        vec![dep(&a, 0)],
    )
    .with_circuit_observer(opened.clone());
    assert_eq!(
        r.chat(request("m"), &ctx()).await.unwrap_err().status(),
        502
    );
    assert_eq!(opened.taken().len(), 1, "the first opening is reported");
    assert!(matches!(
        r.chat(request("m"), &ctx()).await,
        Err(GatewayError::Unavailable(_))
    ));
    assert!(
        opened.taken().is_empty(),
        "a refusal while open is no opening"
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(
        r.chat(request("m"), &ctx()).await.unwrap_err().status(),
        502,
        "the probe failed"
    );
    assert_eq!(r.deployment_states()[0].circuit, CircuitStatus::Open);
    assert_eq!(a.calls(), 2);
    let again = opened.taken();
    assert_eq!(again.len(), 1);
    assert!(again[0].reopened);
    assert_eq!(
        (
            &*again[0].model,
            &*again[0].provider,
            &*again[0].upstream_model
        ),
        ("m", "a", "up")
    );
    assert_eq!(again[0].cooldown, Duration::from_secs(10));
}

/// Records the circuit openings the router reports.
#[derive(Default)]
struct Openings(std::sync::Mutex<Vec<CircuitOpened>>);

impl Openings {
    fn taken(&self) -> Vec<CircuitOpened> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl CircuitObserver for Openings {
    fn circuit_opened(&self, event: &CircuitOpened) {
        self.0.lock().unwrap().push(event.clone());
    }
}

#[tokio::test(start_paused = true)]
async fn a_stream_falls_back_before_its_first_event() {
    let a = Fake::new("a", [Outcome::FailFirstEvent(529)]);
    let b = Fake::new("b", []);
    let r = router(RoutingPolicy::default(), vec![dep(&a, 0), dep(&b, 1)]);
    let out = r.chat_stream(request("m"), &ctx()).await.unwrap();
    assert_eq!((&*out.served_by.provider, out.served_by.attempts), ("b", 2));
    let events: Vec<_> = out.value.collect().await;
    assert_eq!(events.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stream_never_falls_back_after_its_first_byte() {
    let a = Fake::new("a", [Outcome::ChunksThenCut(1)]);
    let b = Fake::new("b", []);
    let r = router(RoutingPolicy::default(), vec![dep(&a, 0), dep(&b, 1)]);
    let mut out = r.chat_stream(request("m"), &ctx()).await.unwrap();
    assert_eq!(&*out.served_by.provider, "a");
    assert!(matches!(
        out.value.next().await,
        Some(Ok(StreamEvent::Chunk(_)))
    ));
    assert_eq!(
        r.deployment_states()[0].in_flight,
        1,
        "the stream holds its permit"
    );
    assert!(matches!(out.value.next().await, Some(Err(_))));
    assert!(out.value.next().await.is_none());
    drop(out);
    assert_eq!(b.calls(), 0);
    let state = &r.deployment_states()[0];
    assert_eq!(
        (state.in_flight, state.consecutive_failures),
        (0, 1),
        "a cut stream counts against the deployment"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stream_rejected_upfront_falls_back() {
    let a = Fake::new("a", [Outcome::Status(503, None)]);
    let b = Fake::new("b", []);
    let r = router(RoutingPolicy::default(), vec![dep(&a, 0), dep(&b, 1)]);
    assert_eq!(
        &*r.chat_stream(request("m"), &ctx())
            .await
            .unwrap()
            .served_by
            .provider,
        "b"
    );
}

#[tokio::test(start_paused = true)]
async fn regions_are_honoured_and_fail_closed() {
    let us = Fake::new("us", []);
    let eu = Fake::new("eu", []);
    let r = router(
        RoutingPolicy::default(),
        vec![
            dep(&us, 0).with_region("us-east"),
            dep(&eu, 1).with_region("eu-west"),
        ],
    );
    let mut c = ctx();
    c.constraints.regions = Some(Arc::from(vec!["eu-west".to_owned()]));
    let out = r.chat(request("m"), &c).await.unwrap();
    assert_eq!(
        (&*out.served_by.provider, out.served_by.region.as_deref()),
        ("eu", Some("eu-west"))
    );
    c.constraints.regions = Some(Arc::from(vec!["ap-south".to_owned()]));
    assert!(matches!(
        r.chat(request("m"), &c).await,
        Err(GatewayError::Forbidden(d)) if d.by == gateway_core::DeniedBy::Region
    ));
    assert_eq!(us.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn unknown_models_are_404() {
    let r = router(RoutingPolicy::default(), vec![]);
    assert!(matches!(
        r.chat(request("nope"), &ctx()).await,
        Err(GatewayError::ModelNotFound(_))
    ));
}
