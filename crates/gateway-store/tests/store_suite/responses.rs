//! Stored Responses API answers: round trip, tenant isolation, deletion and retention.

use std::time::{Duration, SystemTime};

use gateway_core::GatewayError;
use gateway_core::TenantId;
use gateway_core::store::{CONFLICT_CODE, ResponseStore, StoredResponse, unix_millis};

use crate::harness::Harness;

fn stored(id: &str, tenant: &str, created_at: SystemTime) -> StoredResponse {
    StoredResponse {
        id: id.to_owned(),
        tenant: TenantId::new(tenant),
        created_at,
        response: format!(r#"{{"id":"{id}","object":"response"}}"#),
        input_items: r#"[{"id":"msg_1","type":"message"}]"#.to_owned(),
        conversation: r#"[{"role":"user","content":"hi"}]"#.to_owned(),
    }
}

pub async fn responses_round_trip_within_their_tenant(h: &Harness) {
    let now = SystemTime::now();
    let r = stored("resp_1", "acme", now);
    h.store.put_response(&r).await.unwrap();
    let got = h
        .store
        .get_response(&TenantId::new("acme"), "resp_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.response, r.response);
    assert_eq!(got.input_items, r.input_items);
    assert_eq!(got.conversation, r.conversation);
    assert_eq!(unix_millis(got.created_at), unix_millis(now));
    // Another tenant sees nothing and deletes nothing.
    let beta = TenantId::new("beta");
    assert_eq!(h.store.get_response(&beta, "resp_1").await.unwrap(), None);
    assert!(!h.store.delete_response(&beta, "resp_1").await.unwrap());
    // The id is unique across tenants.
    match h.store.put_response(&stored("resp_1", "beta", now)).await {
        Err(GatewayError::InvalidRequest {
            code: Some(code), ..
        }) => assert_eq!(code, CONFLICT_CODE),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        h.store
            .delete_response(&TenantId::new("acme"), "resp_1")
            .await
            .unwrap()
    );
    assert_eq!(
        h.store
            .get_response(&TenantId::new("acme"), "resp_1")
            .await
            .unwrap(),
        None
    );
    assert!(
        !h.store
            .delete_response(&TenantId::new("acme"), "resp_1")
            .await
            .unwrap()
    );
}

pub async fn response_retention_deletes_only_older_ones(h: &Harness) {
    let cutoff = SystemTime::now() - Duration::from_secs(86_400);
    // More than one chunk of expired rows (the store deletes 1,000 per statement).
    for i in 0..1_001u64 {
        let at = cutoff - Duration::from_secs(i + 1);
        h.store
            .put_response(&stored(&format!("resp_old_{i}"), "acme", at))
            .await
            .unwrap();
    }
    h.store
        .put_response(&stored("resp_new", "acme", cutoff))
        .await
        .unwrap();
    assert_eq!(
        h.store.delete_responses_before(cutoff).await.unwrap(),
        1_001
    );
    let acme = TenantId::new("acme");
    assert!(
        h.store
            .get_response(&acme, "resp_new")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        h.store
            .get_response(&acme, "resp_old_0")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(h.store.delete_responses_before(cutoff).await.unwrap(), 0);
}
