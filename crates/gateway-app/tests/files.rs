//! The Files API through the real edge: upload (multipart, streamed, size-limited), list,
//! metadata, content, delete; every route authenticated, and one tenant's files invisible to
//! another.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use http::Method;

const BOUNDARY: &str = "gateway-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart body with the given fields: `(name, filename, content)`.
fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, content) in fields {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/jsonl\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(gw: &TestGateway, key: &str, body: Vec<u8>) -> Reply {
    let auth = format!("Bearer {key}");
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    send(
        Method::POST,
        &gw.url("/v1/files"),
        body,
        &[
            ("authorization", auth.as_str()),
            ("content-type", ct.as_str()),
        ],
    )
    .await
}

async fn call(gw: &TestGateway, method: Method, key: &str, path: &str) -> Reply {
    let auth = format!("Bearer {key}");
    send(
        method,
        &gw.url(path),
        "",
        &[("authorization", auth.as_str())],
    )
    .await
}

async fn gateway(dir: &std::path::Path, max: u64) -> TestGateway {
    TestGateway::start_with_sections(
        "",
        &format!(
            "[files]\ndir = {:?}\nmax_file_bytes = {max}\n",
            dir.display().to_string()
        ),
    )
    .await
}

const LINES: &[u8] =
    b"{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{}}\n";

#[tokio::test]
async fn a_file_goes_up_is_listed_read_back_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), 1024 * 1024).await;
    let up = upload(
        &gw,
        &gw.key,
        multipart(&[
            ("purpose", None, b"batch"),
            ("file", Some("../in.jsonl"), LINES),
        ]),
    )
    .await;
    assert_eq!(up.status, 200, "{:?}", up.body);
    let file = up.json();
    let id = file["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("file-"), "{file}");
    assert_eq!(file["object"], "file");
    assert_eq!(file["bytes"], LINES.len());
    assert_eq!(file["filename"], "in.jsonl");
    assert_eq!(file["purpose"], "batch");

    let got = call(&gw, Method::GET, &gw.key, &format!("/v1/files/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), file);
    let content = call(
        &gw,
        Method::GET,
        &gw.key,
        &format!("/v1/files/{id}/content"),
    )
    .await;
    assert_eq!(content.status, 200);
    assert_eq!(&content.body[..], LINES);

    // The purpose may come after the file; a second upload lists first (newest first).
    let second = upload(
        &gw,
        &gw.key,
        multipart(&[
            ("file", Some("b.jsonl"), LINES),
            ("purpose", None, b"batch"),
        ]),
    )
    .await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    let second_id = second.json()["id"].as_str().unwrap().to_owned();
    let list = call(&gw, Method::GET, &gw.key, "/v1/files").await.json();
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second_id.as_str(), id.as_str()]);
    let page = call(&gw, Method::GET, &gw.key, "/v1/files?limit=1")
        .await
        .json();
    assert_eq!(page["has_more"], true);
    assert_eq!(page["data"][0]["id"], second_id.as_str());
    let next = call(
        &gw,
        Method::GET,
        &gw.key,
        &format!("/v1/files?limit=1&after={second_id}"),
    )
    .await
    .json();
    assert_eq!(next["data"][0]["id"], id.as_str());
    assert_eq!(next["has_more"], false);

    let deleted = call(&gw, Method::DELETE, &gw.key, &format!("/v1/files/{id}")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["deleted"], true);
    assert_eq!(
        call(&gw, Method::GET, &gw.key, &format!("/v1/files/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        call(
            &gw,
            Method::GET,
            &gw.key,
            &format!("/v1/files/{id}/content")
        )
        .await
        .status,
        404
    );
    assert!(!dir.path().join(&id).exists(), "the bytes are gone too");
}

#[tokio::test]
async fn another_tenant_sees_none_of_a_tenants_files() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), 1024 * 1024).await;
    let other = issue_key(&gw.state, "other").await;
    let up = upload(
        &gw,
        &gw.key,
        multipart(&[
            ("purpose", None, b"batch"),
            ("file", Some("a.jsonl"), LINES),
        ]),
    )
    .await;
    let id = up.json()["id"].as_str().unwrap().to_owned();
    for (method, path) in [
        (Method::GET, format!("/v1/files/{id}")),
        (Method::GET, format!("/v1/files/{id}/content")),
        (Method::DELETE, format!("/v1/files/{id}")),
    ] {
        let r = call(&gw, method.clone(), &other, &path).await;
        assert_eq!(r.status, 404, "{method} {path}: {:?}", r.body);
        assert_eq!(
            r.json()["error"]["type"],
            "invalid_request_error",
            "{:?}",
            r.body
        );
    }
    let list = call(&gw, Method::GET, &other, "/v1/files").await.json();
    assert_eq!(list["data"], serde_json::json!([]));
    // Still there for its owner.
    assert_eq!(
        call(&gw, Method::GET, &gw.key, &format!("/v1/files/{id}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), 1000).await;
    let big = vec![b'x'; 5000];
    let too_big = upload(
        &gw,
        &gw.key,
        multipart(&[
            ("purpose", None, b"batch"),
            ("file", Some("big.jsonl"), &big),
        ]),
    )
    .await;
    assert_eq!(too_big.status, 413, "{:?}", too_big.body);
    let purpose = upload(
        &gw,
        &gw.key,
        multipart(&[
            ("purpose", None, b"fine-tune"),
            ("file", Some("a.jsonl"), LINES),
        ]),
    )
    .await;
    assert_eq!(purpose.status, 400);
    assert_eq!(purpose.json()["error"]["param"], "purpose");
    let no_file = upload(&gw, &gw.key, multipart(&[("purpose", None, b"batch")])).await;
    assert_eq!(no_file.status, 400);
    let unknown = upload(
        &gw,
        &gw.key,
        multipart(&[
            ("purpose", None, b"batch"),
            ("extra", None, b"1"),
            ("file", Some("a"), LINES),
        ]),
    )
    .await;
    assert_eq!(unknown.status, 400, "{:?}", unknown.body);
    let truncated = upload(&gw, &gw.key, b"--gateway-test-boundary-7MA4YWxkTrZu0gW\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc".to_vec()).await;
    assert_eq!(truncated.status, 400, "{:?}", truncated.body);
    let json = gw.post("/v1/files", "{}").await;
    assert_eq!(json.status, 400);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        call(&gw, Method::GET, &gw.key, "/v1/files").await.json()["data"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn every_files_route_needs_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), 1000).await;
    for (method, path) in [
        (Method::POST, "/v1/files"),
        (Method::GET, "/v1/files"),
        (Method::GET, "/v1/files/file-0190abc"),
        (Method::GET, "/v1/files/file-0190abc/content"),
        (Method::DELETE, "/v1/files/file-0190abc"),
    ] {
        let r = send(method.clone(), &gw.url(path), "", &[]).await;
        assert_eq!(r.status, 401, "{method} {path}");
    }
    let bad_id = call(&gw, Method::GET, &gw.key, "/v1/files/..%2F..%2Fetc").await;
    assert_eq!(bad_id.status, 404);
}

#[tokio::test]
async fn uploads_count_against_request_limits_and_the_tenant_storage_quota() {
    let dir = tempfile::tempdir().unwrap();
    let file = |content: &[u8]| {
        multipart(&[
            ("purpose", None, b"batch"),
            ("file", Some("in.jsonl"), content),
        ])
    };
    // A quota of two files and 300 bytes per tenant.
    let gw = TestGateway::start_with_sections(
        "",
        &format!(
            "[files]\ndir = {:?}\ntenant_max_files = 2\ntenant_max_bytes = 300\n",
            dir.path().display().to_string()
        ),
    )
    .await;
    let first = upload(&gw, &gw.key, file(LINES)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    // More than the room left (300 - 74 bytes): 413, and nothing is stored.
    let too_big = upload(&gw, &gw.key, file(&LINES.repeat(4))).await;
    assert_eq!(too_big.status, 413, "{:?}", too_big.body);
    assert_eq!(too_big.json()["error"]["type"], "invalid_request_error");
    let second = upload(&gw, &gw.key, file(LINES)).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    // Two files stored: the next upload is refused with 429 in OpenAI's shape.
    let over = upload(&gw, &gw.key, file(LINES)).await;
    assert_eq!(over.status, 429, "{:?}", over.body);
    let error = over.json()["error"].clone();
    assert_eq!(error["type"], "rate_limit_error");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("tenant_max_files"),
        "{error}"
    );
    let listed = call(&gw, Method::GET, &gw.key, "/v1/files").await.json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    // Deleting one makes room again.
    let id = listed["data"][0]["id"].as_str().unwrap();
    let deleted = call(&gw, Method::DELETE, &gw.key, &format!("/v1/files/{id}")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(upload(&gw, &gw.key, file(LINES)).await.status, 200);

    // The key's request rate counts uploads like model calls.
    let dir = tempfile::tempdir().unwrap();
    let gw = TestGateway::start_with_sections(
        "",
        &format!(
            "[files]\ndir = {:?}\n\n[limits.key]\nrpm = 2\n",
            dir.path().display().to_string()
        ),
    )
    .await;
    assert_eq!(upload(&gw, &gw.key, file(LINES)).await.status, 200);
    assert_eq!(upload(&gw, &gw.key, file(LINES)).await.status, 200);
    let limited = upload(&gw, &gw.key, file(LINES)).await;
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert_eq!(limited.json()["error"]["code"], "rate_limit_exceeded");
    assert!(limited.headers.get("retry-after").is_some());
}
