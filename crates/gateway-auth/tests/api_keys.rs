//! API keys end to end over an in-memory store: issuing, every refusal, caching, the
//! revocation bound across instances, last-used throttling.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use common::{MemStore, assert_refused};
use gateway_auth::{ApiKeys, KeyAuthenticator, KeyCacheSettings, KeyManager, NewApiKey};
use gateway_core::phases::auth::Authenticator;
use gateway_core::{AuthMethod, GatewayRole, Secret, TenantId};

const TTL: Duration = Duration::from_secs(5);

fn settings() -> KeyCacheSettings {
    KeyCacheSettings {
        ttl: TTL,
        negative_ttl: TTL,
        capacity: 1000,
        last_used_interval: Duration::from_secs(60),
    }
}

fn instance(store: &Arc<MemStore>) -> KeyAuthenticator {
    KeyAuthenticator::new(
        store.clone(),
        store.clone(),
        ApiKeys::new(Some(&Secret::new("pepper".into()))),
        settings(),
    )
}

async fn issue(manager: &KeyManager, tenant: &str) -> (String, String) {
    let created = manager
        .create(NewApiKey::new(TenantId::new(tenant), "ci"))
        .await
        .unwrap();
    (created.record.id, created.secret.expose().clone())
}

#[tokio::test(start_paused = true)]
async fn issued_key_authenticates_and_only_its_hash_is_stored() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let auth = instance(&store);
    let manager = KeyManager::new(store.clone(), auth.clone());
    let mut new = NewApiKey::new(TenantId::new("acme"), "ci");
    new.roles = vec![GatewayRole::Developer, GatewayRole::Viewer];
    new.allowed_models = Some(vec!["gpt-4o".into()]);
    let created = manager.create(new).await.unwrap();
    let secret = created.secret.expose();
    assert!(
        secret.starts_with("sk-gw-") && secret.len() == 49,
        "{secret}"
    );
    assert!(created.record.id.starts_with("key_"));
    let stored = store.key(&created.record.id);
    assert_ne!(stored.hash, *secret);
    assert!(!stored.hash.contains(&secret[6..]));
    assert!(secret.starts_with(&stored.prefix));

    let p = auth.authenticate(secret).await.unwrap();
    assert_eq!(p.tenant, TenantId::new("acme"));
    assert_eq!(&*p.subject, created.record.id);
    assert_eq!(&*p.roles, &[GatewayRole::Developer, GatewayRole::Viewer]);
    assert_eq!(
        p.allowed_models.as_deref(),
        Some(&["gpt-4o".to_owned()][..])
    );
    assert_eq!(p.method, AuthMethod::ApiKey);

    // A different pepper cannot verify the same key.
    let other = KeyAuthenticator::new(store.clone(), store.clone(), ApiKeys::new(None), settings());
    assert_refused(other.authenticate(secret).await);
}

#[tokio::test(start_paused = true)]
async fn every_refusal_looks_the_same() {
    let store = Arc::new(MemStore::with_tenants(&["acme", "frozen"]));
    let auth = instance(&store);
    let manager = KeyManager::new(store.clone(), auth.clone());
    let (_, good) = issue(&manager, "acme").await;

    let malformed = ["nope", "sk-gw-short", "Bearer x", &format!("{good}x")];
    for token in malformed {
        assert_refused(auth.authenticate(token).await);
    }
    assert_eq!(
        store.key_lookups.load(Ordering::SeqCst),
        0,
        "malformed tokens never reach the store"
    );

    let unknown = ApiKeys::new(None).generate();
    assert_refused(auth.authenticate(unknown.secret.expose()).await);

    let (disabled_id, disabled) = issue(&manager, "acme").await;
    manager.set_enabled(&disabled_id, false).await.unwrap();
    assert_refused(auth.authenticate(&disabled).await);

    let (revoked_id, revoked) = issue(&manager, "acme").await;
    manager.revoke(&revoked_id).await.unwrap();
    assert_refused(auth.authenticate(&revoked).await);

    let mut expiring = NewApiKey::new(TenantId::new("acme"), "short-lived");
    expiring.expires_at = Some(SystemTime::now() - Duration::from_secs(1));
    let expired = manager.create(expiring).await.unwrap();
    assert_refused(auth.authenticate(expired.secret.expose()).await);

    let (_, frozen) = issue(&manager, "frozen").await;
    store.edit_tenant("frozen", |t| t.enabled = false);
    assert_refused(auth.authenticate(&frozen).await);

    assert!(auth.authenticate(&good).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn key_expiring_while_cached_is_refused_at_once() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let auth = instance(&store);
    let manager = KeyManager::new(store.clone(), auth.clone());
    let mut new = NewApiKey::new(TenantId::new("acme"), "soon");
    new.expires_at = Some(SystemTime::now() + Duration::from_millis(200));
    let created = manager.create(new).await.unwrap();
    assert!(auth.authenticate(created.secret.expose()).await.is_ok());
    // Wall-clock expiry (SystemTime) is checked on every request, cached or not.
    std::thread::sleep(Duration::from_millis(300));
    assert_refused(auth.authenticate(created.secret.expose()).await);
}

#[tokio::test(start_paused = true)]
async fn tenant_allow_lists_narrow_the_key() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    store.edit_tenant("acme", |t| {
        t.allowed_models = Some(vec!["gpt-4o".into(), "claude".into()]);
        t.allowed_regions = Some(vec!["eu".into()]);
    });
    let auth = instance(&store);
    let manager = KeyManager::new(store.clone(), auth.clone());
    let mut new = NewApiKey::new(TenantId::new("acme"), "narrow");
    new.allowed_models = Some(vec!["claude".into(), "gemini".into()]);
    let created = manager.create(new).await.unwrap();
    let p = auth.authenticate(created.secret.expose()).await.unwrap();
    assert_eq!(
        p.allowed_models.as_deref(),
        Some(&["claude".to_owned()][..])
    );
    assert_eq!(p.allowed_regions.as_deref(), Some(&["eu".to_owned()][..]));
    let (_, wide) = issue(&manager, "acme").await;
    let p = auth.authenticate(&wide).await.unwrap();
    assert_eq!(p.allowed_models.as_deref().map(<[String]>::len), Some(2));
}

#[tokio::test(start_paused = true)]
async fn revocation_reaches_another_instance_within_the_cache_ttl() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let a = instance(&store);
    let b = instance(&store);
    let manager = KeyManager::new(store.clone(), a.clone());
    let (id, secret) = issue(&manager, "acme").await;
    assert!(a.authenticate(&secret).await.is_ok());
    assert!(b.authenticate(&secret).await.is_ok());

    manager.revoke(&id).await.unwrap();
    // The instance that revoked refuses at once.
    assert_refused(a.authenticate(&secret).await);
    // The other may answer from its cache for a while, but never past the bound.
    let start = tokio::time::Instant::now();
    loop {
        let refused = b.authenticate(&secret).await.is_err();
        if refused {
            break;
        }
        assert!(
            start.elapsed() < TTL,
            "still accepted {:?} after revocation",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(start.elapsed() <= TTL);
    assert_refused(b.authenticate(&secret).await);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_in_flight_cannot_undo_a_local_revocation() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let auth = instance(&store);
    let manager = KeyManager::new(store.clone(), auth.clone());
    let (id, secret) = issue(&manager, "acme").await;
    *store.delay.lock().unwrap() = Duration::from_secs(1);
    auth.authenticate(&secret).await.unwrap(); // cached; the load took 2 s (key + tenant)
    tokio::time::advance(Duration::from_secs(1)).await;
    auth.authenticate(&secret).await.unwrap(); // past TTL/2: a background refresh reads the key
    tokio::time::sleep(Duration::from_millis(100)).await; // ...and its answer is in flight
    assert_eq!(store.key_lookups.load(Ordering::SeqCst), 2);
    *store.delay.lock().unwrap() = Duration::ZERO;
    manager.revoke(&id).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await; // the stale answer lands
    assert_refused(auth.authenticate(&secret).await);
}

#[tokio::test(start_paused = true)]
async fn disabling_a_tenant_reaches_every_instance_within_the_bound() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let a = instance(&store);
    let manager = KeyManager::new(store.clone(), a.clone());
    let (_, secret) = issue(&manager, "acme").await;
    assert!(a.authenticate(&secret).await.is_ok());
    store.edit_tenant("acme", |t| t.enabled = false);
    tokio::time::advance(TTL).await;
    assert_refused(a.authenticate(&secret).await);
    // And a local tenant change can be applied at once.
    store.edit_tenant("acme", |t| t.enabled = true);
    a.invalidate_tenant(&TenantId::new("acme")).await;
    assert!(a.authenticate(&secret).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn hot_keys_never_wait_on_the_store() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let auth = instance(&store);
    let manager = KeyManager::new(store.clone(), auth.clone());
    let (_, secret) = issue(&manager, "acme").await;
    *store.delay.lock().unwrap() = Duration::from_secs(1);

    let loaded = tokio::time::Instant::now();
    auth.authenticate(&secret).await.unwrap();
    assert_eq!(
        loaded.elapsed(),
        Duration::from_secs(2),
        "the first use loads key and tenant"
    );
    for _ in 0..100 {
        auth.authenticate(&secret).await.unwrap();
    }
    assert_eq!(store.key_lookups.load(Ordering::SeqCst), 1);

    // Past half the TTL: served at once, refreshed in the background.
    tokio::time::advance(Duration::from_secs(1)).await;
    let t = tokio::time::Instant::now();
    auth.authenticate(&secret).await.unwrap();
    assert_eq!(t.elapsed(), Duration::ZERO);
    // The refresh completes (key and, past half its TTL, the tenant: two store reads).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(store.key_lookups.load(Ordering::SeqCst), 2);
    // Beyond the TTL of the first load, the refreshed entry serves.
    assert!(loaded.elapsed() >= TTL);
    let t = tokio::time::Instant::now();
    auth.authenticate(&secret).await.unwrap();
    assert_eq!(t.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn refused_keys_are_remembered_briefly_and_outages_are_503() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let auth = instance(&store);
    let unknown = ApiKeys::new(None).generate();
    for _ in 0..10 {
        assert_refused(auth.authenticate(unknown.secret.expose()).await);
    }
    assert_eq!(store.key_lookups.load(Ordering::SeqCst), 1);

    store.down.store(true, Ordering::SeqCst);
    let other = ApiKeys::new(None).generate();
    let err = auth.authenticate(other.secret.expose()).await.unwrap_err();
    assert_eq!(err.status(), 503);
    // Not cached: once the store is back, the answer comes from it.
    store.down.store(false, Ordering::SeqCst);
    assert_refused(auth.authenticate(other.secret.expose()).await);
}

#[tokio::test(start_paused = true)]
async fn last_used_is_written_off_path_and_throttled() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let auth = instance(&store);
    let manager = KeyManager::new(store.clone(), auth.clone());
    let (id, secret) = issue(&manager, "acme").await;
    for _ in 0..50 {
        auth.authenticate(&secret).await.unwrap();
    }
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(store.touches.load(Ordering::SeqCst), 1);
    assert!(store.key(&id).last_used_at.is_some());
}

/// A key's verdict built on a cached tenant expires with that tenant entry: disabling the
/// tenant takes at most one TTL to reach every key, not tenant TTL + key TTL.
#[tokio::test(start_paused = true)]
async fn a_tenant_change_takes_one_ttl_not_two() {
    let store = Arc::new(MemStore::with_tenants(&["acme"]));
    let a = instance(&store);
    let manager = KeyManager::new(store.clone(), a.clone());
    let (_, first) = issue(&manager, "acme").await;
    let (_, second) = issue(&manager, "acme").await;
    assert!(a.authenticate(&first).await.is_ok()); // caches the tenant at t = 0
    tokio::time::advance(TTL * 2 / 5).await;
    assert!(a.authenticate(&second).await.is_ok()); // key verdict built on that tenant entry
    store.edit_tenant("acme", |t| t.enabled = false);
    // One TTL after the tenant was read (the key's own TTL would run to 1.4 TTL).
    tokio::time::advance(TTL * 3 / 5 + Duration::from_millis(1)).await;
    assert_refused(a.authenticate(&second).await);
    assert_refused(a.authenticate(&first).await);
}
