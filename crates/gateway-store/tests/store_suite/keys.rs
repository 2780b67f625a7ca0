//! API keys: round trips, lookups, conflicts, updates, revocation, last-used.

use std::time::Duration;

use gateway_core::store::{ApiKeyRecord, CONFLICT_CODE, KeyStore, Limits, TenantStore};
use gateway_core::{GatewayError, GatewayRole, TenantId};
use serde_json::json;

use crate::harness::Harness;
use crate::tenants::{new_tenant, now_ms};

pub fn new_key(id: &str, tenant: &str, hash: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        tenant: TenantId::new(tenant),
        name: format!("key {id}"),
        prefix: "sk-gw-AbCd".to_owned(),
        hash: hash.to_owned(),
        roles: vec![GatewayRole::Developer],
        allowed_models: None,
        allowed_networks: None,
        limits: Limits::default(),
        expires_at: None,
        metadata: json!({}),
        enabled: true,
        created_at: now_ms(),
        last_used_at: None,
        revoked_at: None,
    }
}

async fn with_tenants(h: &Harness, ids: &[&str]) {
    for id in ids {
        h.store.create_tenant(&new_tenant(id)).await.unwrap();
    }
}

pub async fn key_round_trip_and_lookup_by_hash(h: &Harness) {
    with_tenants(h, &["acme"]).await;
    let mut k = new_key("key_1", "acme", &"ab".repeat(32));
    k.roles = vec![GatewayRole::Developer, GatewayRole::Viewer];
    k.allowed_models = Some(vec!["gpt-4o".into()]);
    k.limits = Limits {
        rpm: Some(60),
        tpm: None,
        max_concurrency: Some(2),
        budget_usd_daily: None,
        budget_usd_monthly: Some(100.0),
        rps: Some(5),
        rpd: None,
        tpd: Some(1_000_000),
    };
    k.expires_at = Some(now_ms() + Duration::from_secs(3600));
    k.metadata = json!({"owner": "team-a", "ticket": 42, "nested": {"x": [1, 2]}});
    h.store.create_key(&k).await.unwrap();
    assert_eq!(h.store.get_key("key_1").await.unwrap(), Some(k.clone()));
    assert_eq!(h.store.get_key_by_hash(&k.hash).await.unwrap(), Some(k));
    assert_eq!(
        h.store.get_key_by_hash(&"cd".repeat(32)).await.unwrap(),
        None
    );
    assert_eq!(h.store.get_key("key_2").await.unwrap(), None);
}

pub async fn key_conflicts_and_missing_tenant(h: &Harness) {
    with_tenants(h, &["acme"]).await;
    h.store
        .create_key(&new_key("key_1", "acme", "h1"))
        .await
        .unwrap();
    let same_id = h
        .store
        .create_key(&new_key("key_1", "acme", "h2"))
        .await
        .unwrap_err();
    assert_eq!(same_id.code(), Some(CONFLICT_CODE));
    let same_hash = h
        .store
        .create_key(&new_key("key_2", "acme", "h1"))
        .await
        .unwrap_err();
    assert_eq!(same_hash.code(), Some(CONFLICT_CODE));
    let no_tenant = h
        .store
        .create_key(&new_key("key_3", "ghost", "h3"))
        .await
        .unwrap_err();
    assert!(
        matches!(no_tenant, GatewayError::NotFound(_)),
        "{no_tenant:?}"
    );
}

pub async fn list_keys_by_tenant(h: &Harness) {
    with_tenants(h, &["acme", "beta"]).await;
    let base = now_ms();
    for (i, (id, tenant)) in [("key_a1", "acme"), ("key_b1", "beta"), ("key_a2", "acme")]
        .into_iter()
        .enumerate()
    {
        let mut k = new_key(id, tenant, &format!("hash_{id}"));
        k.created_at = base + Duration::from_millis(i as u64);
        h.store.create_key(&k).await.unwrap();
    }
    let ids = |keys: Vec<ApiKeyRecord>| keys.into_iter().map(|k| k.id).collect::<Vec<_>>();
    assert_eq!(
        ids(h
            .store
            .list_keys(Some(&TenantId::new("acme")))
            .await
            .unwrap()),
        ["key_a1", "key_a2"]
    );
    assert_eq!(
        ids(h.store.list_keys(None).await.unwrap()),
        ["key_a1", "key_b1", "key_a2"]
    );
    assert!(
        h.store
            .list_keys(Some(&TenantId::new("ghost")))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn update_and_revoke(h: &Harness) {
    with_tenants(h, &["acme"]).await;
    let k = new_key("key_1", "acme", "h1");
    h.store.create_key(&k).await.unwrap();

    let mut changed = k.clone();
    changed.name = "renamed".into();
    changed.roles = vec![GatewayRole::TenantAdmin];
    changed.enabled = false;
    changed.limits.rpm = Some(5);
    changed.allowed_networks = Some(vec!["203.0.113.0/24".into()]);
    changed.metadata = json!({"note": "rotated"});
    changed.hash = "attempted-change".into(); // fixed at creation
    let stored = h.store.update_key(&changed).await.unwrap();
    assert_eq!(
        stored,
        ApiKeyRecord {
            hash: k.hash.clone(),
            ..changed.clone()
        }
    );

    let t1 = now_ms();
    let revoked = h.store.revoke_key("key_1", t1).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t1));
    assert!(!revoked.enabled);
    let again = h
        .store
        .revoke_key("key_1", t1 + Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        again.revoked_at,
        Some(t1),
        "revoking twice keeps the first time"
    );

    let mut reenable = again.clone();
    reenable.enabled = true;
    let err = h.store.update_key(&reenable).await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(!h.store.get_key("key_1").await.unwrap().unwrap().enabled);

    assert!(matches!(
        h.store.revoke_key("ghost", t1).await,
        Err(GatewayError::NotFound(_))
    ));
    assert!(matches!(
        h.store.update_key(&new_key("ghost", "acme", "h9")).await,
        Err(GatewayError::NotFound(_))
    ));
}

pub async fn touch_only_moves_forward(h: &Harness) {
    with_tenants(h, &["acme"]).await;
    h.store
        .create_key(&new_key("key_1", "acme", "h1"))
        .await
        .unwrap();
    let t = now_ms();
    h.store.touch_key_last_used("key_1", t).await.unwrap();
    h.store
        .touch_key_last_used("key_1", t - Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        h.store
            .get_key("key_1")
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(t)
    );
    let later = t + Duration::from_secs(60);
    h.store.touch_key_last_used("key_1", later).await.unwrap();
    assert_eq!(
        h.store
            .get_key("key_1")
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(later)
    );
    h.store.touch_key_last_used("ghost", later).await.unwrap();
}
