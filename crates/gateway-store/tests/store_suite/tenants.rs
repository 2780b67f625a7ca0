//! Tenants: create, read, update, delete, conflicts.

use std::time::SystemTime;

use gateway_core::store::{
    CONFLICT_CODE, KeyStore, Limits, Store, Tenant, TenantStore, from_unix_millis, unix_millis,
};
use gateway_core::{GatewayError, TenantId};

use crate::harness::Harness;
use crate::keys::new_key;

/// Now, at the millisecond precision the store keeps.
pub fn now_ms() -> SystemTime {
    from_unix_millis(unix_millis(SystemTime::now()))
}

pub fn new_tenant(id: &str) -> Tenant {
    Tenant {
        created_at: now_ms(),
        ..Tenant::new(TenantId::new(id), format!("Tenant {id}"))
    }
}

pub async fn tenant_crud(h: &Harness) {
    let s = &h.store;
    assert_eq!(s.get_tenant(&TenantId::new("acme")).await.unwrap(), None);
    let mut acme = new_tenant("acme");
    acme.allowed_models = Some(vec!["gpt-4o".into(), "claude-sonnet".into()]);
    acme.allowed_regions = Some(vec!["eu".into()]);
    acme.allowed_networks = Some(vec!["10.0.0.0/8".into(), "2001:db8::/32".into()]);
    acme.limits = Limits {
        rpm: Some(600),
        tpm: Some(100_000),
        max_concurrency: Some(8),
        budget_usd_daily: Some(12.5),
        budget_usd_monthly: None,
        rps: None,
        rpd: Some(50_000),
        tpd: None,
    };
    s.create_tenant(&acme).await.unwrap();
    s.create_tenant(&new_tenant("beta")).await.unwrap();
    assert_eq!(s.get_tenant(&acme.id).await.unwrap(), Some(acme.clone()));

    let ids: Vec<String> = s
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id.to_string())
        .collect();
    assert_eq!(ids, ["acme", "beta"]);

    let mut changed = acme.clone();
    changed.name = "ACME Corp".into();
    changed.enabled = false;
    changed.allowed_models = None;
    changed.allowed_networks = Some(vec![]);
    changed.threat_intel_opt_out = true;
    changed.limits = Limits::default();
    changed.created_at = SystemTime::UNIX_EPOCH; // ignored: fixed at creation
    let stored = s.update_tenant(&changed).await.unwrap();
    assert_eq!(
        stored,
        Tenant {
            created_at: acme.created_at,
            ..changed.clone()
        }
    );
    assert_eq!(s.get_tenant(&acme.id).await.unwrap(), Some(stored));

    let missing = Tenant {
        id: TenantId::new("nope"),
        ..changed
    };
    assert!(matches!(
        s.update_tenant(&missing).await,
        Err(GatewayError::NotFound(_))
    ));
    assert!(matches!(
        s.delete_tenant(&missing.id).await,
        Err(GatewayError::NotFound(_))
    ));
    s.delete_tenant(&acme.id).await.unwrap();
    assert_eq!(s.get_tenant(&acme.id).await.unwrap(), None);
}

pub async fn duplicate_tenant_is_a_conflict(h: &Harness) {
    let t = new_tenant("acme");
    h.store.create_tenant(&t).await.unwrap();
    let err = h.store.create_tenant(&t).await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(err.code(), Some(CONFLICT_CODE));
}

pub async fn deleting_a_tenant_deletes_its_keys(h: &Harness) {
    let s = &h.store;
    s.create_tenant(&new_tenant("acme")).await.unwrap();
    s.create_tenant(&new_tenant("beta")).await.unwrap();
    s.create_key(&new_key("key_a", "acme", "h_a"))
        .await
        .unwrap();
    s.create_key(&new_key("key_b", "beta", "h_b"))
        .await
        .unwrap();
    s.delete_tenant(&TenantId::new("acme")).await.unwrap();
    assert_eq!(s.get_key("key_a").await.unwrap(), None);
    assert!(s.get_key("key_b").await.unwrap().is_some());
}

pub async fn ping_and_reconnect_keep_data(h: &Harness) {
    h.store.ping().await.unwrap();
    h.store.create_tenant(&new_tenant("acme")).await.unwrap();
    // A second instance runs the (already applied) migrations again and sees the same data.
    let other = h.second_instance().await;
    other.ping().await.unwrap();
    assert!(
        other
            .get_tenant(&TenantId::new("acme"))
            .await
            .unwrap()
            .is_some()
    );
    other.close().await;
}
