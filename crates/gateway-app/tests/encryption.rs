//! Encryption of what the gateway stores, through the real edge: cache entries in Redis and
//! file bytes on disk are ciphertext; deleting a tenant (crypto-shredding) makes its cache
//! entries unreadable, even when their bytes are put back; keys rotate, content is
//! re-encrypted, data keys re-wrapped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use gateway_core::TenantId;
use http::Method;

const ADMIN: &str = "admin-token-for-encryption-0123";
/// A test KEK (32 bytes as hex).
const KEK: &str = "4b454b2d666f722d656e6372797074696f6e2d74657374732d2d2d2d2d2d2d21";

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

fn body() -> String {
    serde_json::json!({"model": "gpt-test", "temperature": 0,
        "messages": [{"role": "user", "content": "What is the capital of France?"}]})
    .to_string()
}

async fn admin(gw: &TestGateway, method: Method, path: &str, body: &str) -> Reply {
    let auth = format!("Bearer {ADMIN}");
    send(
        method,
        &gw.url(path),
        body.to_owned(),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await
}

async fn redis_entries(url: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut out = Vec::new();
    for k in keys {
        let v: Vec<u8> = redis::cmd("GET")
            .arg(&k)
            .query_async(&mut conn)
            .await
            .unwrap();
        out.push((k, v));
    }
    out
}

async fn redis_set(url: &str, key: &str, value: &[u8]) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .arg("PX")
        .arg(60_000)
        .exec_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn redis_cache_entries_are_sealed_and_shredded_with_their_tenant() {
    let Some(url) = redis_url("redis_cache_entries_are_sealed_and_shredded_with_their_tenant")
    else {
        return;
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("gwtest:{}:{nanos}:enc:", std::process::id());
    let sections = format!(
        "[cache]\nenabled = true\nbackend = \"redis\"\nredis_url = \"{url}\"\nkey_prefix = \"{prefix}\"\n\
         [encryption]\nkek = \"{KEK}\"\n[admin]\ntoken = \"{ADMIN}\"\n"
    );
    let gw = TestGateway::start_with_sections("", &sections).await;
    let first = gw.post("/v1/chat/completions", &body()).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let answer = first.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let cache = gw.state.cache.as_ref().unwrap();
    assert!(
        gateway_testkit::eventually(Duration::from_secs(10), || cache.stats().stores >= 1).await
    );
    let entries = redis_entries(&url, &prefix).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let (redis_key, sealed) = entries[0].clone();
    assert!(sealed.starts_with(b"GWE1"), "not sealed");
    let text = String::from_utf8_lossy(&sealed);
    assert!(
        !text.contains(&answer) && !text.contains("chat.completion"),
        "{text}"
    );
    // Sealed entries still serve hits.
    let second = gw.post("/v1/chat/completions", &body()).await;
    assert_eq!(second.headers["x-gateway-cache"], "hit");
    assert_eq!(
        second.json()["choices"][0]["message"]["content"],
        answer.as_str()
    );

    // Crypto-shredding: delete the tenant, put the sealed bytes back, and come back as a new
    // tenant of the same id: the old entry does not open, the call goes upstream.
    let deleted = admin(&gw, Method::DELETE, "/admin/v1/tenants/acme", "").await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    redis_set(&url, &redis_key, &sealed).await;
    let key = issue_key(&gw.state, "acme").await;
    let before = gw.mock.requests().len();
    let auth = format!("Bearer {key}");
    let again = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        body(),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await;
    assert_eq!(again.status, 200);
    assert_ne!(again.headers["x-gateway-cache"], "hit");
    assert_eq!(
        gw.mock.requests().len(),
        before + 1,
        "served upstream, not from the cache"
    );
    let keyring = gw.state.keyring.as_ref().unwrap();
    let status = keyring.status(&TenantId::new("acme")).await.unwrap();
    assert_eq!(status.shredded_up_to, Some(1));

    for (k, _) in redis_entries(&url, &prefix).await {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("DEL")
            .arg(k)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn files_are_sealed_at_rest_and_read_back_across_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let sections = format!(
        "[files]\ndir = {:?}\n[encryption]\nkek = \"{KEK}\"\n[admin]\ntoken = \"{ADMIN}\"\n",
        dir.path().display().to_string()
    );
    let gw = TestGateway::start_with_sections("", &sections).await;
    let boundary = "enc-test-boundary-1234";
    // Several sealed segments: a line longer than one segment, then more.
    let mut content = Vec::new();
    for i in 0..3000 {
        content.extend_from_slice(format!("{{\"custom_id\":\"secret-line-{i}\"}}\n").as_bytes());
    }
    let mut upload = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\
         Content-Type: application/jsonl\r\n\r\n"
    )
    .into_bytes();
    upload.extend_from_slice(&content);
    upload.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let auth = gw.bearer();
    let ct = format!("multipart/form-data; boundary={boundary}");
    let up = send(
        Method::POST,
        &gw.url("/v1/files"),
        upload,
        &[
            ("authorization", auth.as_str()),
            ("content-type", ct.as_str()),
        ],
    )
    .await;
    assert_eq!(up.status, 200, "{:?}", up.body);
    assert_eq!(up.json()["bytes"], content.len());
    let id = up.json()["id"].as_str().unwrap().to_owned();
    let mut at_rest = Vec::new();
    for entry in walk(dir.path()) {
        at_rest.extend(std::fs::read(entry).unwrap());
    }
    assert!(at_rest.starts_with(b"GWF1"), "the stored bytes are sealed");
    assert!(!String::from_utf8_lossy(&at_rest).contains("secret-line"));
    let read = gw.get(&format!("/v1/files/{id}/content")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body.as_ref(), content.as_slice());

    // Rotation: a new data key; the file sealed with the old one still reads.
    let keyring = gw.state.keyring.as_ref().unwrap();
    let acme = TenantId::new("acme");
    assert_eq!(keyring.rotate_tenant(&acme).await.unwrap(), 2);
    assert_eq!(keyring.status(&acme).await.unwrap().versions.len(), 2);
    let read = gw.get(&format!("/v1/files/{id}/content")).await;
    assert_eq!(read.body.as_ref(), content.as_slice());
    let sql = gw.state.sql_store().unwrap();
    sql.reencrypt_tenant(&acme).await.unwrap();
    let wrap = keyring.rewrap_all().await.unwrap();
    assert_eq!(wrap.already_current, 2);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
