//! The bandit's bounds and bookkeeping, without a router.

use super::*;

fn bandit(config: BanditConfig) -> Bandit {
    let rules = vec![
        (Arc::from("single"), vec![Arc::from("only")]),
        (
            Arc::from("code"),
            vec![Arc::from("cheap"), Arc::from("smart"), Arc::from("mid")],
        ),
    ];
    Bandit::new(config, rules, &|_, _| 0.5)
}

fn seeded() -> BanditConfig {
    BanditConfig {
        seed: Some(11),
        ..BanditConfig::default()
    }
}

fn counts(rule: &str, task: &str, candidate: &str, s: f64, f: f64) -> ArmCounts {
    ArmCounts {
        rule: rule.into(),
        task: task.into(),
        candidate: candidate.into(),
        successes: s,
        failures: f,
        version: 1,
        updated_at: std::time::SystemTime::now(),
    }
}

#[test]
fn single_candidate_rules_are_not_the_bandits() {
    let b = bandit(seeded());
    assert!(b.rule(0).is_none());
    assert_eq!(b.rule(1).map(|r| &*r.name), Some("code"));
    assert_eq!(b.rules().count(), 1);
}

#[test]
fn observations_become_deltas_once_and_weigh_by_evidence() {
    let b = bandit(seeded());
    b.observe("code", TaskType::Code, "smart", 0.75, Evidence::Score);
    b.observe("code", TaskType::Code, "smart", 0.0, Evidence::Feedback);
    b.observe("code", TaskType::Code, "nobody", 1.0, Evidence::Score);
    b.observe("single", TaskType::Code, "only", 1.0, Evidence::Score);
    b.observe_reason(
        "rule=code bandit task=math chose=mid p=0.40 lang=en tokens=3 difficulty=0.10",
        TaskType::Math,
        1.0,
        Evidence::Score,
    );
    b.observe_reason(
        "rule=code task=math lang=en -> mid",
        TaskType::Math,
        1.0,
        Evidence::Score,
    );
    let mut d = b.take_deltas();
    d.sort_by(|x, y| x.task.cmp(&y.task));
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(
        (d[0].task.as_str(), d[0].candidate.as_str()),
        ("code", "smart")
    );
    assert!((d[0].successes - 0.75).abs() < 1e-6);
    assert!((d[0].failures - 3.25).abs() < 1e-6);
    assert_eq!(
        (d[1].task.as_str(), d[1].candidate.as_str()),
        ("math", "mid")
    );
    assert!(b.take_deltas().is_empty());
    b.restore_deltas(&d);
    assert_eq!(b.take_deltas().len(), 2);
}

#[test]
fn shares_follow_the_evidence_within_the_minimum() {
    let config = BanditConfig {
        min_share: 0.1,
        exploration: 0.0,
        ..seeded()
    };
    let b = bandit(config);
    let prior = b.share("code", TaskType::Code, "cheap").unwrap();
    assert!((prior - 1.0 / 3.0).abs() < 0.05, "{prior}");
    b.apply(&[
        counts("code", "code", "cheap", 5.0, 95.0),
        counts("code", "code", "smart", 90.0, 10.0),
        counts("code", "code", "mid", 60.0, 40.0),
    ]);
    let cheap = b.share("code", TaskType::Code, "cheap").unwrap();
    let smart = b.share("code", TaskType::Code, "smart").unwrap();
    assert!((cheap - 0.1).abs() < 1e-9, "the floor: {cheap}");
    assert!(smart > 0.75, "{smart}");
    // Another task of the same rule is untouched.
    let math = b.share("code", TaskType::Math, "cheap").unwrap();
    assert!((math - 1.0 / 3.0).abs() < 0.05, "{math}");
    // Drawn shares match the published ones.
    let rule = b.rule(1).unwrap();
    let n = 20_000;
    let picked = (0..n)
        .filter(|_| b.choose(rule, TaskType::Code, 0).index == 0)
        .count() as f64
        / n as f64;
    assert!((picked - cheap).abs() < 0.02, "drawn {picked} vs {cheap}");
}

#[test]
fn memory_caps_old_evidence() {
    let b = bandit(BanditConfig {
        memory: 100.0,
        ..seeded()
    });
    b.apply(&[counts("code", "code", "cheap", 10_000.0, 10_000.0)]);
    let s = b.snapshot();
    let (a, bb) = s.posterior[b.arm(b.rule(1).unwrap(), TaskType::Code, 0)];
    assert!((a + bb - 102.0).abs() < 1e-9, "{a} {bb}");
}

#[test]
fn the_cost_ceiling_leaves_out_unless_none_remain() {
    let b = bandit(seeded());
    let rule = b.rule(1).unwrap();
    for _ in 0..500 {
        let p = b.choose(rule, TaskType::Code, 0b011);
        assert_eq!(p.index, 2);
        assert!((p.share - 1.0).abs() < 1e-9);
    }
    let all_over: std::collections::BTreeSet<usize> = (0..500)
        .map(|_| b.choose(rule, TaskType::Code, 0b111).index)
        .collect();
    assert_eq!(all_over.len(), 3);
}

#[test]
fn frozen_ignores_observations_and_draws_by_the_shares() {
    let b = bandit(BanditConfig {
        frozen: true,
        min_share: 0.0,
        exploration: 0.0,
        ..seeded()
    });
    b.apply(&[counts("code", "code", "smart", 500.0, 0.0)]);
    b.observe("code", TaskType::Code, "cheap", 1.0, Evidence::Feedback);
    assert!(b.take_deltas().is_empty());
    let rule = b.rule(1).unwrap();
    let smart = b.share("code", TaskType::Code, "smart").unwrap();
    assert!(smart > 0.98, "{smart}");
    let picked = (0..2000)
        .filter(|_| b.choose(rule, TaskType::Code, 0).index == 1)
        .count();
    assert!(picked >= 1950, "{picked}");
    // Applying new totals is what a sync would do; frozen, the sync does not (see sync.rs),
    // and observations never reach the deltas.
}

#[test]
fn reasons_parse_only_when_the_bandit_chose() {
    assert_eq!(
        parse_reason("rule=code bandit task=code chose=smart p=0.71 lang=en"),
        Some(("code", "smart"))
    );
    assert_eq!(parse_reason("rule=code task=code lang=en -> smart"), None);
    assert_eq!(parse_reason("rule=code bandit task=code"), None);
    assert_eq!(parse_reason(""), None);
}

#[test]
fn bounds_are_validated() {
    let bad = BanditConfig {
        min_share: 0.4,
        exploration: 1.5,
        cost_ceiling: Some(-1.0),
        memory: 0.0,
        sync_secs: 0,
        ..BanditConfig::default()
    };
    let fields: Vec<String> = bad.problems("b", 3).into_iter().map(|p| p.0).collect();
    assert_eq!(
        fields,
        [
            "b.min_share",
            "b.exploration",
            "b.cost_ceiling",
            "b.memory",
            "b.sync_secs"
        ]
    );
    assert!(BanditConfig::default().problems("b", 3).is_empty());
}

#[test]
fn observed_quality_is_the_evidence_without_the_prior() {
    use gateway_core::quality::QualityStats;
    let b = bandit(seeded());
    assert_eq!(b.quality("smart", None), None);
    b.apply(&[
        counts("code", "code", "smart", 6.0, 2.0),
        counts("code", "math", "smart", 1.0, 1.0),
    ]);
    let code = b.quality("smart", Some(TaskType::Code)).unwrap();
    assert!(
        (code.mean - 0.75).abs() < 1e-9 && code.samples == 8,
        "{code:?}"
    );
    let all = b.quality("smart", None).unwrap();
    assert!(
        (all.mean - 0.7).abs() < 1e-9 && all.samples == 10,
        "{all:?}"
    );
    assert_eq!(b.quality("only", None), None);
}
