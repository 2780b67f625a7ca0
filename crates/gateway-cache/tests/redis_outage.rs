//! The Redis backend when Redis misbehaves: a Redis that accepts connections but never
//! answers costs each lookup at most `redis_timeout_ms` (then none while the circuit is
//! open), and a Redis that is down at start-up starts the cache degraded, which begins to hit
//! once a Redis appears. The second test starts a private `redis-server` on a free port (it
//! prints one line and passes without one, unless `GATEWAY_REQUIRE_SERVICES=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gateway_cache::{
    Cache, CacheBackendKind, CacheConfig, CacheDirectives, CacheLookup, CacheStatus, CachedResponse,
};
use gateway_core::{ChatRequest, ChatResponse, Message, Role, TenantId};
use tokio::time::Instant;

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

fn config(port: u16, timeout_ms: u64, retry_ms: u64) -> CacheConfig {
    CacheConfig {
        enabled: true,
        backend: CacheBackendKind::Redis,
        redis_url: Some(format!("redis://127.0.0.1:{port}")),
        redis_timeout_ms: timeout_ms,
        redis_retry_interval_ms: retry_ms,
        key_prefix: format!("gwtest:{}:outage:", std::process::id()),
        ..CacheConfig::default()
    }
}

async fn lookup(cache: &Cache, text: &str) -> CacheLookup {
    let tenant = TenantId::new("acme");
    let directives = CacheDirectives::default();
    cache
        .lookup(&tenant, "gpt-4o", &request(text), &directives)
        .await
}

/// Accepts every connection and never writes a byte (connections are kept open).
async fn silent_redis() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

#[tokio::test(start_paused = true)]
async fn a_redis_that_never_answers_costs_each_lookup_at_most_the_timeout() {
    let port = silent_redis().await;
    let deadline = Duration::from_millis(500);
    let started = Instant::now();
    let cache = Cache::from_config(&config(port, 500, 1000))
        .await
        .expect("a silent Redis must not prevent start-up")
        .unwrap();
    assert!(
        started.elapsed() <= deadline,
        "start-up probe took {:?}",
        started.elapsed()
    );
    assert!(cache.stats().backend_down);

    // Over several retry intervals: probes wait at most the deadline, the rest not at all.
    for i in 0..8 {
        let started = Instant::now();
        let found = lookup(&cache, &format!("q{i}")).await;
        let took = started.elapsed();
        assert_eq!(found.status(), Some(CacheStatus::Miss), "lookup {i}");
        assert!(took <= deadline, "lookup {i} took {took:?}");
        let fill = found.into_fill().unwrap();
        let started = Instant::now();
        cache
            .store(&fill, &CachedResponse::bare(response("a")))
            .await;
        assert!(
            started.elapsed() <= deadline,
            "store {i} took {:?}",
            started.elapsed()
        );
        tokio::time::advance(Duration::from_millis(300)).await;
    }
    let stats = cache.stats();
    assert!(stats.errors >= 2, "failed probes are counted: {stats:?}");
    assert!(
        stats.errors < 8,
        "calls while the circuit is open are skipped: {stats:?}"
    );
    assert_eq!(stats.hits, 0);
    assert!(stats.backend_down);
}

/// A private `redis-server`, killed when dropped.
struct PrivateRedis(Child);

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(port: u16) -> Option<PrivateRedis> {
    let spawned = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(child) => Some(PrivateRedis(child)),
        Err(_) if std::env::var("GATEWAY_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("redis-server is not installed and GATEWAY_REQUIRE_SERVICES=1")
        }
        Err(e) => {
            println!("skipping: cannot start redis-server ({e})");
            None
        }
    }
}

fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_cache_started_without_redis_begins_to_hit_once_redis_is_up() {
    let port = free_port();
    let cache = Cache::from_config(&config(port, 500, 50))
        .await
        .expect("a Redis that is down must not prevent start-up")
        .unwrap();
    assert!(cache.stats().backend_down, "degraded from the start");
    assert_eq!(lookup(&cache, "q").await.status(), Some(CacheStatus::Miss));

    let Some(_redis) = start_redis(port) else {
        return;
    };
    let entry = CachedResponse::bare(response("from redis"));
    let mut hit = None;
    for _ in 0..200 {
        let found = lookup(&cache, "q").await;
        if let CacheLookup::Hit(entry) = found {
            hit = Some(entry);
            break;
        }
        if let Some(fill) = found.into_fill() {
            cache.store(&fill, &entry).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let hit = hit.expect("the cache should hit within 10 s of Redis starting");
    assert_eq!(hit.response, response("from redis"));
    assert!(!cache.stats().backend_down);
}
