//! Audit: the hash chain, listing, tamper detection, concurrent appenders.

use std::sync::Arc;
use std::time::Duration;

use gateway_core::TenantId;
use gateway_core::store::{AuditEvent, AuditOutcome, AuditQuery, AuditStore};
use gateway_store::GENESIS_HASH;
use serde_json::json;

use crate::harness::Harness;
use crate::tenants::now_ms;

fn event(tenant: Option<&str>, actor: &str, action: &str) -> AuditEvent {
    AuditEvent {
        at: now_ms(),
        tenant: tenant.map(TenantId::new),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: Some("key_1".to_owned()),
        outcome: AuditOutcome::Success,
        ip: Some("10.0.0.7".to_owned()),
        details: json!({"b": 1, "a": [true, null, "x\ny"]}),
    }
}

pub async fn audit_chain_appends_and_lists(h: &Harness) {
    let s = &h.store;
    let first = s
        .append_audit(&event(Some("acme"), "key_admin", "key.create"))
        .await
        .unwrap();
    assert_eq!(first.seq, 1);
    assert_eq!(first.prev_hash, GENESIS_HASH);
    let mut denied = event(None, "anonymous", "auth.denied");
    denied.outcome = AuditOutcome::Denied;
    denied.target = None;
    denied.ip = None;
    let second = s.append_audit(&denied).await.unwrap();
    assert_eq!(
        (second.seq, second.prev_hash.as_str()),
        (2, first.hash.as_str())
    );
    s.append_audit(&event(Some("beta"), "key_admin", "key.revoke"))
        .await
        .unwrap();
    s.append_audit(&event(Some("acme"), "key_other", "key.revoke"))
        .await
        .unwrap();

    let all = s.list_audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(all.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(all[0], first);
    assert_eq!(all[1].event, denied);

    let seqs = |q: AuditQuery| async move {
        s.list_audit(&q)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        seqs(AuditQuery {
            tenant: Some(TenantId::new("acme")),
            ..AuditQuery::default()
        })
        .await,
        [1, 4]
    );
    assert_eq!(
        seqs(AuditQuery {
            actor: Some("key_admin".into()),
            ..AuditQuery::default()
        })
        .await,
        [1, 3]
    );
    assert_eq!(
        seqs(AuditQuery {
            action: Some("key.revoke".into()),
            ..AuditQuery::default()
        })
        .await,
        [3, 4]
    );
    assert_eq!(
        seqs(AuditQuery {
            after_seq: Some(2),
            limit: 1,
            ..AuditQuery::default()
        })
        .await,
        [3]
    );
    assert_eq!(
        seqs(AuditQuery {
            newest_first: true,
            limit: 2,
            ..AuditQuery::default()
        })
        .await,
        [4, 3]
    );
    let later = now_ms() + Duration::from_secs(60);
    assert!(
        seqs(AuditQuery {
            from: Some(later),
            ..AuditQuery::default()
        })
        .await
        .is_empty()
    );
    assert_eq!(
        seqs(AuditQuery {
            until: Some(later),
            ..AuditQuery::default()
        })
        .await
        .len(),
        4
    );

    let v = s.verify_audit().await.unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert_eq!(v.checked, 4);
}

pub async fn audit_tampering_is_detected(h: &Harness) {
    for i in 0..5 {
        h.store
            .append_audit(&event(Some("acme"), "key_admin", &format!("action.{i}")))
            .await
            .unwrap();
    }
    assert!(h.store.verify_audit().await.unwrap().is_intact());
    // Deleting a record breaks the link at the next one.
    h.raw_execute("DELETE FROM audit_events WHERE seq = 4")
        .await;
    let v = h.store.verify_audit().await.unwrap();
    assert_eq!((v.first_broken_seq, v.checked), (Some(5), 4), "{v:?}");
    // Editing a record breaks its own hash.
    h.raw_execute("UPDATE audit_events SET details = '{\"b\":2}' WHERE seq = 2")
        .await;
    let v = h.store.verify_audit().await.unwrap();
    assert_eq!((v.first_broken_seq, v.checked), (Some(2), 2), "{v:?}");
}

pub async fn concurrent_appends_from_two_instances_keep_one_chain(h: &Harness) {
    let other = Arc::new(h.second_instance().await);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let other = other.clone();
        tasks.push(tokio::spawn(async move {
            other
                .append_audit(&event(None, "instance-b", &format!("b.{i}")))
                .await
                .unwrap()
                .seq
        }));
    }
    let mut seqs = Vec::new();
    for i in 0..20 {
        seqs.push(
            h.store
                .append_audit(&event(None, "instance-a", &format!("a.{i}")))
                .await
                .unwrap()
                .seq,
        );
    }
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<u64>>());
    let v = h.store.verify_audit().await.unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert_eq!(v.checked, 40);
    other.close().await;
}
