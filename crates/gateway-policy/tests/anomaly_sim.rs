//! Anomaly detection on simulated traffic (a seeded RNG and a simulated clock: no sleeping,
//! no wall time): each attack scenario is detected within its stated time, and a normal week
//! over 50 keys raises at most one false alarm per key-week. The figures for several seeds
//! are in docs/security.md (`cargo run --release -p gateway-policy --example anomaly_eval`).

#[path = "anomaly_sim/scenarios.rs"]
mod scenarios;
#[path = "anomaly_sim/sim.rs"]
mod sim;

use gateway_policy::anomaly::{AnomalyAction, Counters, Detector, EntityKind, Signal};
use scenarios::{ATTACK_START, VICTIM};
use sim::{HISTORY, Sim, eval_config};

#[test]
fn leaked_key_from_many_new_addresses_is_suspended_within_ten_minutes() {
    let d = scenarios::leaked_key(11, 60);
    assert!(d.first.is_some_and(|m| m <= 10), "{d:?}");
    assert!(d.alert.is_some_and(|m| m <= 10), "{d:?}");
    assert_eq!(d.highest, Some(AnomalyAction::Suspend), "{d:?}");
}

#[test]
fn sudden_cost_spike_is_alerted_within_fifteen_minutes() {
    let d = scenarios::cost_spike(12, 60);
    assert!(d.alert.is_some_and(|m| m <= 15), "{d:?}");
    assert!(
        matches!(d.signal, Some("cost_usd" | "tokens" | "new_models")),
        "{d:?}"
    );
}

#[test]
fn slow_exfiltration_is_recorded_within_a_day() {
    let d = scenarios::slow_exfiltration(13, 24 * 60);
    assert!(d.first.is_some_and(|m| m <= 24 * 60), "{d:?}");
    assert!(
        matches!(d.signal, Some("tokens" | "cost_usd" | "requests")),
        "{d:?}"
    );
}

#[test]
fn a_burst_of_guardrail_findings_from_one_key_is_alerted_within_fifteen_minutes() {
    let d = scenarios::guardrail_probing(20, 60, true);
    assert!(d.alert.is_some_and(|m| m <= 15), "{d:?}");
    assert_eq!(d.signal, Some("guardrail_findings"), "{d:?}");
    // The same hour without the findings raises nothing about the key.
    let quiet = scenarios::guardrail_probing(20, 60, false);
    assert_eq!(quiet.first, None, "{quiet:?}");
}

#[test]
fn credential_stuffing_from_a_botnet_is_alerted_within_fifteen_minutes() {
    let d = scenarios::credential_stuffing(14, 60);
    assert!(d.alert.is_some_and(|m| m <= 15), "{d:?}");
    assert_eq!(
        d.highest,
        Some(AnomalyAction::Alert),
        "gateway-wide: alert, never suspend"
    );
}

#[test]
fn credential_stuffing_from_one_network_is_alerted_within_five_minutes() {
    let d = scenarios::credential_stuffing_one_network(15, 30);
    assert!(d.alert.is_some_and(|m| m <= 5), "{d:?}");
}

#[test]
fn a_normal_week_raises_at_most_one_false_alarm_per_key_week() {
    let w = scenarios::normal_week(16, 50);
    assert!(
        w.key_alarms <= w.keys,
        "{} alarms over {} key-weeks",
        w.key_alarms,
        w.keys
    );
    assert!(w.worst_key_alarms <= 3, "worst key: {}", w.worst_key_alarms);
}

#[test]
fn nothing_is_scored_during_the_warm_up() {
    let mut sim = Sim::new(17, 5, eval_config());
    // The first day: a key used from a dozen new networks raises nothing yet.
    for _ in 0..60 {
        sim.normal_minute();
        for i in 0..12u8 {
            let mut call = sim.normal_call(0);
            call.client = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 18, i, 1));
            sim.call(&call);
        }
        sim.fold();
    }
    assert!(sim.anomalies.is_empty(), "{:?}", sim.anomalies);
}

#[test]
fn baselines_survive_a_restart_through_export_and_import() {
    let mut sim = Sim::new(18, 3, eval_config());
    sim.run_normal(HISTORY);
    let stored = sim.detector.export(0);
    let keys = stored.iter().filter(|s| s.kind == EntityKind::Key).count();
    assert_eq!(keys, 3, "{stored:?}");
    assert!(
        stored
            .iter()
            .any(|s| s.kind == EntityKind::Tenant && s.id == "acme")
    );
    // A new process: fresh counters and detector, the stored state imported.
    let counters = Counters::new(eval_config().max_entities);
    let mut detector = Detector::new(eval_config());
    assert_eq!(detector.import(&counters, stored.clone()), 0);
    let before = sim
        .detector
        .entity(&sim.counters, EntityKind::Key, VICTIM)
        .unwrap();
    let after = detector.entity(&counters, EntityKind::Key, VICTIM).unwrap();
    // Baselines (f32) come back exactly; the f64 windows to the last bit or so.
    let baselines = |e: &gateway_policy::anomaly::EntityState| {
        e.rates
            .iter()
            .map(|r| r.baseline.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(baselines(before), baselines(after));
    assert_eq!(
        (&before.networks, &before.models, before.first_seen),
        (&after.networks, &after.models, after.first_seen)
    );
    let (w0, w1) = (before.rates[0].windows[2], after.rates[0].windows[2]);
    assert!((w0.observed - w1.observed).abs() < 1e-9 * w0.observed.abs().max(1.0));
    // The restored detector scores at once (no second warm-up): a leaked key is caught.
    let mut restored = Sim {
        counters,
        detector,
        ..Sim::new(18, 3, eval_config())
    };
    restored.minute = sim.minute;
    for _ in 0..10 {
        restored.normal_minute();
        for i in 0..3u8 {
            let mut call = restored.normal_call(0);
            call.client = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 18, i, 1));
            restored.call(&call);
        }
        restored.fold();
    }
    let raised = restored.raised_for(EntityKind::Key, VICTIM, 0);
    assert!(!raised.is_empty());
    assert_eq!(raised[0].1.signals[0].signal, Signal::NewNetworks);
    // A corrupt row is skipped, not fatal.
    let mut bad = stored[0].clone();
    bad.state = "{".into();
    assert_eq!(
        Detector::new(eval_config()).import(&Counters::new(64), vec![bad]),
        1
    );
}

#[test]
fn opted_out_tenants_are_not_scored() {
    let config = gateway_policy::anomaly::AnomalyConfig {
        opt_out_tenants: vec!["acme".into()],
        ..eval_config()
    };
    let mut sim = Sim::new(19, 3, config);
    sim.run_normal(ATTACK_START);
    for _ in 0..30 {
        sim.normal_minute();
        for i in 0..5u8 {
            let mut call = sim.normal_call(0);
            call.client = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 18, i, 1));
            sim.call(&call);
        }
        sim.fold();
    }
    assert!(sim.raised_for(EntityKind::Key, VICTIM, 0).is_empty());
}
