//! Tests of the [`Cache`] facade over the memory backend: the request path as the pipeline
//! drives it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use gateway_core::phases::route::ServedBy;
use gateway_core::{ChatRequest, ChatResponse, ProviderError, StreamEvent, TenantId};
use http::{HeaderMap, HeaderValue};

use crate::testing::{request, response};
use crate::*;

fn cache() -> Cache {
    let cfg = CacheConfig {
        enabled: true,
        ..CacheConfig::default()
    };
    Cache::new(
        Arc::new(MemoryCache::new(1 << 20)),
        CachePolicy::from_config(&cfg),
    )
}

fn served_by() -> ServedBy {
    ServedBy {
        route_reason: None,
        task: None,
        dropped_params: Vec::new(),
        provider: Arc::from("openai"),
        upstream_model: Arc::from("gpt-4o-2024-08-06"),
        region: None,
        attempts: 1,
        path: vec![Arc::from("openai")],
    }
}

async fn lookup(c: &Cache, tenant: &str, req: &ChatRequest, d: CacheDirectives) -> CacheLookup {
    c.lookup(&TenantId::new(tenant), "gpt-4o", req, &d).await
}

fn directives(name: &'static str, value: &'static str) -> CacheDirectives {
    let mut headers = HeaderMap::new();
    headers.insert(name, HeaderValue::from_static(value));
    crate::policy::directives_from_headers(&headers)
}

#[tokio::test]
async fn miss_store_hit_with_origin() {
    let c = cache();
    let req = request("hi");
    let first = lookup(&c, "t", &req, CacheDirectives::default()).await;
    assert_eq!(first.status(), Some(CacheStatus::Miss));
    let fill = first.into_fill().unwrap();
    assert_eq!(fill.ttl, Duration::from_secs(300));
    c.store(
        &fill,
        &CachedResponse::new(response("hello"), Some(&served_by())),
    )
    .await;
    let CacheLookup::Hit(hit) = lookup(&c, "t", &req, CacheDirectives::default()).await else {
        panic!("expected a hit");
    };
    assert_eq!(hit.response, response("hello"));
    assert_eq!(hit.provider.as_deref(), Some("openai"));
    assert_eq!(hit.upstream_model.as_deref(), Some("gpt-4o-2024-08-06"));
    let stats = c.stats();
    assert_eq!((stats.hits, stats.misses, stats.stores), (1, 1, 1));
}

#[tokio::test]
async fn tenants_are_isolated_and_bypass_is_reported() {
    let c = cache();
    let req = request("hi");
    let fill = lookup(&c, "a", &req, CacheDirectives::default())
        .await
        .into_fill()
        .unwrap();
    c.store(&fill, &CachedResponse::bare(response("for a")))
        .await;
    let other = lookup(&c, "b", &req, CacheDirectives::default()).await;
    assert_eq!(other.status(), Some(CacheStatus::Miss));
    assert_ne!(other.into_fill().unwrap().key, fill.key);

    let bypass = lookup(&c, "a", &req, directives("x-gateway-cache", "bypass")).await;
    assert_eq!(
        bypass,
        CacheLookup::Bypass {
            reason: BypassReason::Requested,
            fill: None
        }
    );
    assert_eq!(bypass.status(), Some(CacheStatus::Bypass));
    let mut hot = req.clone();
    hot.temperature = Some(1.0);
    let skipped = lookup(&c, "a", &hot, CacheDirectives::default()).await;
    assert_eq!(skipped.status(), Some(CacheStatus::Bypass));
    assert_eq!(skipped.into_fill(), None);
    assert_eq!(c.stats().bypasses, 2);
}

#[tokio::test]
async fn no_cache_refreshes_the_entry() {
    let c = cache();
    let req = request("hi");
    let fill = lookup(&c, "t", &req, CacheDirectives::default())
        .await
        .into_fill()
        .unwrap();
    c.store(&fill, &CachedResponse::bare(response("old"))).await;
    let refresh = lookup(&c, "t", &req, directives("cache-control", "no-cache")).await;
    assert_eq!(refresh.status(), Some(CacheStatus::Bypass));
    let refill = refresh.into_fill().unwrap();
    assert_eq!(refill.key, fill.key);
    c.store(&refill, &CachedResponse::bare(response("new")))
        .await;
    let CacheLookup::Hit(hit) = lookup(&c, "t", &req, CacheDirectives::default()).await else {
        panic!("expected a hit");
    };
    assert_eq!(hit.response, response("new"));
}

#[tokio::test]
async fn disabled_model_is_skipped_without_header() {
    let mut cfg = CacheConfig {
        enabled: true,
        ..CacheConfig::default()
    };
    cfg.models.insert(
        "gpt-4o".into(),
        ModelCacheConfig {
            enabled: Some(false),
            ttl_secs: None,
        },
    );
    let c = Cache::new(
        Arc::new(MemoryCache::new(1 << 20)),
        CachePolicy::from_config(&cfg),
    );
    let result = lookup(&c, "t", &request("hi"), CacheDirectives::default()).await;
    assert_eq!(result, CacheLookup::Skip);
    assert_eq!(result.status(), None);
}

type Events = Vec<Result<StreamEvent, ProviderError>>;

fn events_of(resp: &ChatResponse) -> Events {
    replay_as_chunks(resp)
        .into_iter()
        .map(|c| Ok(StreamEvent::Chunk(c)))
        .collect()
}

/// Drive `events` through a fill stream for a fresh key; returns what a later lookup finds.
async fn fill_with(events: Events, consume: usize) -> Option<CachedResponse> {
    let c = cache();
    let req = request("stream me");
    let fill = lookup(&c, "t", &req, CacheDirectives::default())
        .await
        .into_fill();
    let total = events.len();
    let mut wrapped = c.fill_stream(stream::iter(events), fill, Some(&served_by()));
    let mut seen = 0;
    while seen < consume
        && let Some(_) = wrapped.next().await
    {
        seen += 1;
    }
    if consume > total {
        assert!(wrapped.next().await.is_none());
    }
    drop(wrapped);
    // The store runs in a spawned task: give it a moment.
    for _ in 0..50 {
        if let CacheLookup::Hit(hit) = lookup(&c, "t", &req, CacheDirectives::default()).await {
            return Some(*hit);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test]
async fn a_completed_stream_is_cached_with_usage() {
    let original = response("streamed answer");
    let cached = fill_with(events_of(&original), usize::MAX).await.unwrap();
    assert_eq!(cached.response, original);
    assert_eq!(cached.provider.as_deref(), Some("openai"));
}

#[tokio::test]
async fn partial_failed_or_dropped_streams_are_not_cached() {
    let original = response("streamed answer");
    // Dropped after two events (client went away / guardrail stopped reading).
    assert_eq!(fill_with(events_of(&original), 2).await, None);
    // Ended without the finish chunk.
    let mut unfinished = events_of(&original);
    unfinished.truncate(2);
    assert_eq!(fill_with(unfinished, usize::MAX).await, None);
    // An upstream error mid-stream, even if the stream then ends normally.
    let mut failed = events_of(&original);
    failed.insert(2, Err(ProviderError::InvalidResponse("bad".into())));
    assert_eq!(fill_with(failed, usize::MAX).await, None);
}

#[tokio::test]
async fn invalidation_without_a_bus_is_local() {
    let c = cache();
    let req = request("hi");
    let fill = lookup(&c, "t", &req, CacheDirectives::default())
        .await
        .into_fill()
        .unwrap();
    c.store(&fill, &CachedResponse::bare(response("x"))).await;
    let scope = Invalidation::model("gpt-4o");
    assert_eq!(c.invalidate(&scope).await.unwrap(), 1);
    let again = lookup(&c, "t", &req, CacheDirectives::default()).await;
    assert_eq!(again.status(), Some(CacheStatus::Miss));
}

#[tokio::test]
async fn from_config_disabled_and_invalid() {
    assert!(
        Cache::from_config(&CacheConfig::default())
            .await
            .unwrap()
            .is_none()
    );
    let bad = CacheConfig {
        enabled: true,
        max_bytes: 0,
        ..CacheConfig::default()
    };
    let err = Cache::from_config(&bad).await.unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("cache.max_bytes"),
        "{err}"
    );
    let ok = CacheConfig {
        enabled: true,
        ..CacheConfig::default()
    };
    let c = Cache::from_config(&ok).await.unwrap().unwrap();
    assert_eq!(c.backend().name(), "memory");
}

#[tokio::test]
async fn a_replayed_stream_is_well_typed_for_both_stream_kinds() {
    let resp = response("hi");
    let chat: gateway_core::ChatStream = replay_stream(&resp, false);
    let gateway: gateway_core::GatewayStream = replay_stream(&resp, true);
    assert_eq!(chat.count().await, 3);
    assert_eq!(gateway.count().await, 4);
}
