//! The routing bandit's arm counts (migration 0016): deltas add up, also when two instances
//! add to the same arms at once, and every arm reads back with its version.

use std::time::SystemTime;

use gateway_core::store::{ArmCounts, BanditStore};

use crate::harness::Harness;

fn delta(task: &str, candidate: &str, s: f64, f: f64) -> ArmCounts {
    ArmCounts {
        rule: "code".into(),
        task: task.into(),
        candidate: candidate.into(),
        successes: s,
        failures: f,
        version: 0,
        updated_at: SystemTime::UNIX_EPOCH,
    }
}

pub async fn bandit_counts_add_up_across_instances(h: &Harness) {
    assert!(h.store.arm_counts().await.unwrap().is_empty());
    h.store
        .add_arm_counts(&[
            delta("code", "cheap", 0.5, 2.5),
            delta("code", "smart", 3.0, 0.25),
        ])
        .await
        .unwrap();
    h.store.add_arm_counts(&[]).await.unwrap();
    let other = h.second_instance().await;
    let batch = [
        delta("code", "cheap", 1.0, 1.0),
        delta("math", "cheap", 2.0, 0.0),
    ];
    let (a, b) = tokio::join!(h.store.add_arm_counts(&batch), other.add_arm_counts(&batch));
    a.unwrap();
    b.unwrap();
    // Not finite or negative: counted as nothing.
    h.store
        .add_arm_counts(&[delta("math", "cheap", f64::NAN, -4.0)])
        .await
        .unwrap();
    let arms = other.arm_counts().await.unwrap();
    let got: Vec<(&str, &str, f64, f64, i64)> = arms
        .iter()
        .map(|a| {
            (
                a.task.as_str(),
                a.candidate.as_str(),
                a.successes,
                a.failures,
                a.version,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("code", "cheap", 2.5, 4.5, 3),
            ("code", "smart", 3.0, 0.25, 1),
            ("math", "cheap", 4.0, 0.0, 3),
        ]
    );
    assert!(arms.iter().all(|a| a.rule == "code"));
    assert!(arms[0].updated_at > SystemTime::UNIX_EPOCH);
}
