//! Webhook endpoints and the outbox: CRUD, idempotent enqueue, leases that two instances
//! never share, attempts moving a delivery on, redelivery, retention.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use gateway_core::TenantId;
use gateway_core::store::{
    AttemptOutcome, DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookStore,
};

use crate::harness::Harness;
use crate::tenants::now_ms;

fn endpoint(id: &str, tenant: &str) -> WebhookEndpoint {
    WebhookEndpoint {
        id: id.to_owned(),
        tenant: TenantId::new(tenant),
        url: "https://hooks.example.com/in".to_owned(),
        description: "ci".to_owned(),
        events: vec!["key.created".to_owned(), "batch.completed".to_owned()],
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
        previous_secret: None,
        previous_secret_until: None,
        enabled: true,
        created_at: now_ms(),
        updated_at: now_ms(),
    }
}

fn delivery(id: &str, endpoint: &str, due: SystemTime) -> WebhookDelivery {
    WebhookDelivery {
        id: id.to_owned(),
        endpoint_id: endpoint.to_owned(),
        tenant: TenantId::new("acme"),
        event_type: "key.created".to_owned(),
        payload: r#"{"type":"key.created"}"#.to_owned(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: due,
        expires_at: due + Duration::from_secs(86_400),
        last_status_code: None,
        last_error: None,
        created_at: now_ms(),
        updated_at: now_ms(),
    }
}

pub async fn webhook_endpoints_round_trip(h: &Harness) {
    let s = &h.store;
    let mut e = endpoint("ep_1", "acme");
    s.create_endpoint(&e).await.unwrap();
    s.create_endpoint(&endpoint("ep_2", "other")).await.unwrap();
    assert!(s.create_endpoint(&e).await.is_err(), "duplicate id");
    assert_eq!(s.get_endpoint("ep_1").await.unwrap(), Some(e.clone()));
    let acme = s
        .list_endpoints(Some(&TenantId::new("acme")))
        .await
        .unwrap();
    assert_eq!(acme, vec![e.clone()]);
    assert_eq!(s.list_endpoints(None).await.unwrap().len(), 2);
    e.previous_secret = Some(e.secret.clone());
    e.previous_secret_until = Some(now_ms() + Duration::from_secs(60));
    e.secret = "whsec_bmV3".to_owned();
    e.events = vec!["async.completed".to_owned()];
    e.enabled = false;
    s.update_endpoint(&e).await.unwrap();
    assert_eq!(s.get_endpoint("ep_1").await.unwrap(), Some(e.clone()));
    let missing = WebhookEndpoint {
        id: "ep_none".to_owned(),
        ..e.clone()
    };
    assert!(s.update_endpoint(&missing).await.is_err());
    let now = now_ms();
    s.enqueue_deliveries(&[delivery("msg_1", "ep_1", now)])
        .await
        .unwrap();
    assert!(s.delete_endpoint("ep_1").await.unwrap());
    assert!(!s.delete_endpoint("ep_1").await.unwrap());
    assert_eq!(s.get_delivery("msg_1").await.unwrap(), None, "cascaded");
}

pub async fn webhook_outbox_claims_retries_and_dead_letters(h: &Harness) {
    let s = &h.store;
    s.create_endpoint(&endpoint("ep_1", "acme")).await.unwrap();
    let now = now_ms();
    let later = now + Duration::from_secs(600);
    let queued = [
        delivery("msg_1", "ep_1", now),
        delivery("msg_2", "ep_1", now),
        delivery("msg_3", "ep_1", later),
        delivery("msg_4", "ep_gone", now),
    ];
    assert_eq!(s.enqueue_deliveries(&queued).await.unwrap(), 3);
    // The same event again is not queued twice.
    assert_eq!(s.enqueue_deliveries(&queued[..1]).await.unwrap(), 0);

    assert_eq!(s.next_delivery_due().await.unwrap(), Some(now));
    let lease = now + Duration::from_secs(30);
    let claimed = s.claim_deliveries(now, lease, 10).await.unwrap();
    let ids: Vec<_> = claimed.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"msg_1") && ids.contains(&"msg_2"));
    // Leased: nobody else gets them until the lease runs out.
    assert!(s.claim_deliveries(now, lease, 10).await.unwrap().is_empty());
    let after_lease = lease + Duration::from_millis(1);
    assert_eq!(
        s.claim_deliveries(after_lease, after_lease + Duration::from_secs(30), 1)
            .await
            .unwrap()
            .len(),
        1
    );

    // Every due one is leased now: the earliest thing to wait for is a lease running out.
    assert_eq!(s.next_delivery_due().await.unwrap(), Some(lease));
    let retry_at = now + Duration::from_secs(5);
    let failed = DeliveryAttempt {
        delivery_id: "msg_1".to_owned(),
        attempt: 1,
        at: now,
        status_code: Some(500),
        latency_ms: 12,
        error: Some("status 500".to_owned()),
        succeeded: false,
    };
    s.record_attempt(&failed, &AttemptOutcome::Retry(retry_at))
        .await
        .unwrap();
    let d = s.get_delivery("msg_1").await.unwrap().unwrap();
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at, d.last_status_code),
        (DeliveryStatus::Pending, 1, retry_at, Some(500))
    );
    let dead = DeliveryAttempt {
        attempt: 2,
        at: retry_at,
        ..failed.clone()
    };
    s.record_attempt(&dead, &AttemptOutcome::Dead)
        .await
        .unwrap();
    assert_eq!(
        s.get_delivery("msg_1").await.unwrap().unwrap().status,
        DeliveryStatus::Dead
    );
    let attempts = s.list_attempts("msg_1").await.unwrap();
    assert_eq!(attempts, vec![failed.clone(), dead]);

    let redelivered = s
        .redeliver("msg_1", later, later + Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(redelivered.status, DeliveryStatus::Pending);
    assert!(s.redeliver("msg_none", now, now).await.is_err());
    let ok = DeliveryAttempt {
        attempt: 3,
        at: later,
        status_code: Some(204),
        error: None,
        succeeded: true,
        ..failed
    };
    let due = s
        .claim_deliveries(later, later + Duration::from_secs(30), 10)
        .await
        .unwrap();
    assert!(due.iter().any(|d| d.id == "msg_1"));
    s.record_attempt(&ok, &AttemptOutcome::Succeeded)
        .await
        .unwrap();
    assert_eq!(
        s.get_delivery("msg_1").await.unwrap().unwrap().status,
        DeliveryStatus::Succeeded
    );
    let page = s.list_deliveries("ep_1", None, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["msg_3", "msg_2"]
    );
    let next = s.list_deliveries("ep_1", Some("msg_2"), 2).await.unwrap();
    assert_eq!(next.len(), 1);
    // Retention takes finished deliveries only.
    let gone = s
        .delete_deliveries_before(later + Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(gone, 1);
    assert!(s.list_attempts("msg_1").await.unwrap().is_empty());
}

pub async fn webhook_claims_are_disjoint_across_instances(h: &Harness) {
    let other = h.second_instance().await;
    let s = &h.store;
    s.create_endpoint(&endpoint("ep_1", "acme")).await.unwrap();
    let now = now_ms();
    let queued: Vec<_> = (0..40)
        .map(|i| delivery(&format!("msg_{i:03}"), "ep_1", now))
        .collect();
    s.enqueue_deliveries(&queued).await.unwrap();
    let lease = now + Duration::from_secs(30);
    let (mut seen, mut total) = (HashSet::new(), 0);
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            s.claim_deliveries(now, lease, 5),
            other.claim_deliveries(now, lease, 5)
        );
        for d in a.unwrap().into_iter().chain(b.unwrap()) {
            total += 1;
            assert!(seen.insert(d.id), "claimed twice");
        }
    }
    assert_eq!(total, 40);
    other.close().await;
}
