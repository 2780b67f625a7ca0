//! Limits set per key through the admin API (stored with the key) hold in the served pipeline,
//! for every dimension the store keeps, including requests per day.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use http::Method;

const ADMIN: &str = "admin-token-for-limit-tests-0123";

#[tokio::test]
async fn a_daily_request_limit_set_through_the_admin_api_is_enforced() {
    let gw = TestGateway::start_with_sections("", &format!("[admin]\ntoken = \"{ADMIN}\"")).await;
    let admin = format!("Bearer {ADMIN}");
    let created = send(
        Method::POST,
        &gw.url("/admin/v1/keys"),
        r#"{"tenant":"acme","name":"daily","limits":{"rpd":2,"rps":100}}"#,
        &[
            ("authorization", admin.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let body = created.json();
    assert_eq!(body["limits"]["rpd"], 2, "{body}");
    let key = format!("Bearer {}", body["secret"].as_str().unwrap());
    let headers = [
        ("authorization", key.as_str()),
        ("content-type", "application/json"),
    ];
    for _ in 0..2 {
        let ok = send(
            Method::POST,
            &gw.url("/v1/chat/completions"),
            chat_body("gpt-test", false),
            &headers,
        )
        .await;
        assert_eq!(ok.status, 200, "{:?}", ok.body);
    }
    let limited = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        chat_body("gpt-test", false),
        &headers,
    )
    .await;
    assert_eq!(limited.status, 429);
    assert!(
        limited.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rpd"),
        "{:?}",
        limited.body
    );
    assert!(limited.headers.contains_key("retry-after"));
}
