//! The cache across instances, against a real Redis (`GATEWAY_TEST_REDIS_URL`, e.g.
//! `redis://127.0.0.1:6379`). Without it these tests print one line and pass, unless
//! `GATEWAY_REQUIRE_SERVICES=1`, which makes a missing Redis a failure. Every test uses its own
//! key prefix and removes its keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gateway_cache::{
    Cache, CacheBackendKind, CacheConfig, CacheDirectives, CacheLookup, CacheStatus,
    CachedResponse, Invalidation, Key, RedisCache,
};
use gateway_core::{ChatRequest, ChatResponse, Message, Role, TenantId};

fn redis_url(test: &str) -> Option<String> {
    match std::env::var("GATEWAY_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("GATEWAY_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("GATEWAY_TEST_REDIS_URL is not set and GATEWAY_REQUIRE_SERVICES=1")
        }
        _ => {
            println!("skipping {test}: GATEWAY_TEST_REDIS_URL is not set");
            None
        }
    }
}

fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("gwtest:{}:{nanos}:{test}:", std::process::id())
}

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o".into(),
        messages: vec![Message::text(Role::User, text)],
        ..ChatRequest::default()
    }
}

fn response(text: &str) -> ChatResponse {
    serde_json::from_value(serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    }))
    .unwrap()
}

const MINUTE: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test]
async fn two_redis_caches_share_entries_and_invalidations() {
    let Some(url) = redis_url("two_redis_caches_share_entries_and_invalidations") else {
        return;
    };
    let prefix = unique_prefix("shared");
    let a = RedisCache::connect(&url, &prefix, TIMEOUT).await.unwrap();
    let b = RedisCache::connect(&url, &prefix, TIMEOUT).await.unwrap();
    let key = |tenant: &str, model: &str| Key::derive(&TenantId::new(tenant), model, &request("q"));
    let entry = CachedResponse::bare(response("shared answer"));

    a.put(&key("acme", "gpt-4o"), &entry, MINUTE).await.unwrap();
    assert_eq!(
        b.get(&key("acme", "gpt-4o")).await.unwrap(),
        Some(entry.clone())
    );
    // Same request, other tenant: another key, no cross-tenant hit.
    assert_eq!(b.get(&key("globex", "gpt-4o")).await.unwrap(), None);

    for (tenant, model) in [
        ("globex", "gpt-4o"),
        ("acme", "ollama:llama3"),
        ("globex", "ollama:llama3"),
    ] {
        b.put(&key(tenant, model), &entry, MINUTE).await.unwrap();
    }
    let removed = b
        .invalidate(&Invalidation::tenant(&TenantId::new("acme")))
        .await
        .unwrap();
    assert_eq!(removed, 2);
    assert_eq!(a.get(&key("acme", "gpt-4o")).await.unwrap(), None);
    assert_eq!(a.get(&key("acme", "ollama:llama3")).await.unwrap(), None);
    assert!(a.get(&key("globex", "gpt-4o")).await.unwrap().is_some());
    assert_eq!(
        a.invalidate(&Invalidation::model("ollama:llama3"))
            .await
            .unwrap(),
        1
    );
    assert!(b.get(&key("globex", "gpt-4o")).await.unwrap().is_some());
    assert_eq!(b.get(&key("globex", "ollama:llama3")).await.unwrap(), None);

    // Entries expire with their TTL (Redis' clock).
    a.put(&key("acme", "short"), &entry, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(b.get(&key("acme", "short")).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(b.get(&key("acme", "short")).await.unwrap(), None);

    assert_eq!(a.invalidate(&Invalidation::All).await.unwrap(), 1);
    assert_eq!(b.invalidate(&Invalidation::All).await.unwrap(), 0);
    let stats = b.stats();
    assert!(
        stats.hits == 3 && stats.misses == 3 && stats.errors == 0,
        "{stats:?}"
    );
}

fn config(backend: CacheBackendKind, url: &str, prefix: &str) -> CacheConfig {
    CacheConfig {
        enabled: true,
        backend,
        redis_url: Some(url.to_owned()),
        key_prefix: prefix.to_owned(),
        ..CacheConfig::default()
    }
}

async fn lookup(cache: &Cache, tenant: &str, text: &str) -> CacheLookup {
    cache
        .lookup(
            &TenantId::new(tenant),
            "gpt-4o",
            &request(text),
            &CacheDirectives::default(),
        )
        .await
}

#[tokio::test]
async fn gateways_on_the_redis_backend_share_answers() {
    let Some(url) = redis_url("gateways_on_the_redis_backend_share_answers") else {
        return;
    };
    let cfg = config(CacheBackendKind::Redis, &url, &unique_prefix("facade"));
    let one = Cache::from_config(&cfg).await.unwrap().unwrap();
    let two = Cache::from_config(&cfg).await.unwrap().unwrap();
    let miss = lookup(&one, "acme", "hello").await;
    assert_eq!(miss.status(), Some(CacheStatus::Miss));
    one.store(
        &miss.into_fill().unwrap(),
        &CachedResponse::bare(response("hi!")),
    )
    .await;
    let CacheLookup::Hit(hit) = lookup(&two, "acme", "hello").await else {
        panic!("the second instance should hit");
    };
    assert_eq!(hit.response, response("hi!"));
    assert_eq!(
        lookup(&two, "globex", "hello").await.status(),
        Some(CacheStatus::Miss)
    );
    assert_eq!(two.invalidate(&Invalidation::All).await.unwrap(), 1);
    assert_eq!(
        lookup(&one, "acme", "hello").await.status(),
        Some(CacheStatus::Miss)
    );
}

#[tokio::test]
async fn an_invalidation_published_by_one_instance_clears_another_instances_memory() {
    let Some(url) = redis_url("an_invalidation_published_by_one_instance_clears_...") else {
        return;
    };
    let cfg = config(CacheBackendKind::Memory, &url, &unique_prefix("pubsub"));
    let one = Cache::from_config(&cfg).await.unwrap().unwrap();
    let two = Cache::from_config(&cfg).await.unwrap().unwrap();
    assert_eq!(one.backend().name(), "memory");
    for cache in [&one, &two] {
        for (tenant, text) in [("acme", "q1"), ("globex", "q1")] {
            let fill = lookup(cache, tenant, text).await.into_fill().unwrap();
            cache
                .store(&fill, &CachedResponse::bare(response("local")))
                .await;
        }
    }
    assert_eq!(
        lookup(&two, "acme", "q1").await.status(),
        Some(CacheStatus::Hit)
    );

    let removed = one
        .invalidate(&Invalidation::tenant(&TenantId::new("acme")))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert_eq!(
        lookup(&one, "acme", "q1").await.status(),
        Some(CacheStatus::Miss)
    );
    wait_for_miss(&two, "acme", "q1").await;
    // Only the named tenant was invalidated over there.
    assert_eq!(
        lookup(&two, "globex", "q1").await.status(),
        Some(CacheStatus::Hit)
    );

    two.invalidate(&Invalidation::All).await.unwrap();
    wait_for_miss(&one, "globex", "q1").await;
}

async fn wait_for_miss(cache: &Arc<Cache>, tenant: &str, text: &str) {
    for _ in 0..100 {
        if lookup(cache, tenant, text).await.status() == Some(CacheStatus::Miss) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the invalidation did not reach the other instance within 5 s");
}
