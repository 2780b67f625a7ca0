//! The S3 file storage against a real local S3-compatible server (moto's `moto_server`, from
//! the e2e virtualenv that `cargo xtask test` installs, on a free port of 127.0.0.1): a blob
//! larger than a part goes up as a multipart upload and comes back byte for byte, a small one
//! as one PUT, an aborted upload leaves nothing, delete removes; and a batch runs end to end
//! with its input and output files in the bucket. Without `moto_server` each test prints one
//! skip line, and fails under `GATEWAY_REQUIRE_SERVICES=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use common::*;
use http::Method;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use gateway_app::batches::worker::Worker;
use gateway_app::config::{BatchesConfig, S3Config};
use gateway_app::files::BlobStorage;
use gateway_app::files::s3::S3Storage;
use gateway_core::Secret;
use gateway_providers::HttpClient;

const BUCKET: &str = "gateway-files";
const PART: u64 = 5 * 1024 * 1024;

/// `moto_server`: `$GATEWAY_MOTO_SERVER`, the e2e venv's (`$GATEWAY_VENV` or `<repo>/.venv`),
/// or one on the `PATH`.
fn moto_server() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GATEWAY_MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = match std::env::var_os("GATEWAY_VENV") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        }
        _ => root.join(".venv"),
    };
    let in_venv = venv.join("bin").join("moto_server");
    if in_venv.is_file() {
        return Some(in_venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("moto_server"))
            .find(|p| p.is_file())
    })
}

/// A running `moto_server`, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `moto_server` on a free port with the bucket created; `None` (after one skip line)
/// when it is not installed.
async fn moto(test: &str) -> Option<Moto> {
    let Some(bin) = moto_server() else {
        assert!(
            std::env::var("GATEWAY_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "moto_server is required (GATEWAY_REQUIRE_SERVICES=1): install moto[server] into the e2e venv (cargo xtask test does)"
        );
        println!(
            "{test}: skipped: moto_server not found (pip install 'moto[server]', or run cargo xtask test)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", bin.display()));
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let up = gateway_testkit::eventually_async(Duration::from_secs(60), || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    assert!(up, "moto_server did not listen on {port}");
    let bucket = Bucket::new(
        moto.endpoint.parse().unwrap(),
        UrlStyle::Path,
        BUCKET,
        "us-east-1",
    )
    .unwrap();
    let credentials = Credentials::new("test-key", "test-secret");
    let url = bucket
        .create_bucket(&credentials)
        .sign(Duration::from_secs(60));
    let reply = send(
        Method::PUT,
        url.as_str(),
        Vec::new(),
        &[("content-length", "0")],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    Some(moto)
}

fn s3_config(moto: &Moto) -> S3Config {
    S3Config {
        endpoint: moto.endpoint.clone(),
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        prefix: "files/".into(),
        path_style: true,
        access_key_id: Secret::new("test-key".into()),
        secret_access_key: Secret::new("test-secret".into()),
        part_bytes: PART,
        timeout: Duration::from_secs(30),
    }
}

async fn read_all(storage: &S3Storage, id: &str) -> std::io::Result<Vec<u8>> {
    let mut reader = storage.open(id).await?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await?;
    Ok(out)
}

/// Deterministic bytes that differ at every offset a wrong part order would show.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
        .collect()
}

#[tokio::test]
async fn blobs_go_up_in_parts_come_back_whole_and_are_deleted() {
    let Some(moto) = moto("blobs_go_up_in_parts_come_back_whole_and_are_deleted").await else {
        return;
    };
    let client = HttpClient::new(Duration::from_secs(5)).unwrap();
    let storage = S3Storage::new(&s3_config(&moto), client).unwrap();

    // Two full parts and a short last one, written in odd-sized chunks.
    let big = pattern(2 * PART as usize + 123_457);
    let mut sink = storage.create("file-big").await.unwrap();
    for chunk in big.chunks(300_001) {
        sink.write(chunk).await.unwrap();
    }
    assert!(
        matches!(read_all(&storage, "file-big").await, Err(e) if e.kind() == std::io::ErrorKind::NotFound),
        "not visible before commit"
    );
    assert_eq!(sink.commit().await.unwrap(), big.len() as u64);
    assert!(
        read_all(&storage, "file-big").await.unwrap() == big,
        "the same bytes back"
    );

    // Smaller than a part: one PUT.
    let mut small = storage.create("file-small").await.unwrap();
    small.write(b"{\"hello\": 1}\n").await.unwrap();
    assert_eq!(small.commit().await.unwrap(), 13);
    assert_eq!(
        read_all(&storage, "file-small").await.unwrap(),
        b"{\"hello\": 1}\n"
    );

    // An upload aborted after its first part leaves nothing.
    let mut aborted = storage.create("file-aborted").await.unwrap();
    aborted.write(&pattern(PART as usize + 10)).await.unwrap();
    aborted.abort().await;
    assert_eq!(
        read_all(&storage, "file-aborted").await.unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );

    storage.delete("file-big").await.unwrap();
    storage.delete("file-big").await.unwrap();
    assert_eq!(
        read_all(&storage, "file-big").await.unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
    assert!(storage.create("../escape").await.is_err());
}

#[tokio::test]
async fn a_batch_runs_end_to_end_with_its_files_in_the_bucket() {
    let Some(moto) = moto("a_batch_runs_end_to_end_with_its_files_in_the_bucket").await else {
        return;
    };
    let sections = format!(
        "[files]\nbackend = \"s3\"\n\n[files.s3]\nendpoint = \"{}\"\nbucket = \"{BUCKET}\"\nregion = \"us-east-1\"\npath_style = true\nprefix = \"files/\"\naccess_key_id = \"test-key\"\nsecret_access_key = \"test-secret\"\n",
        moto.endpoint
    );
    let gw = TestGateway::start_with_sections("", &sections).await;
    let config = BatchesConfig {
        poll_interval: Duration::from_millis(20),
        lease: Duration::from_secs(2),
        ..BatchesConfig::default()
    };
    let _worker = Worker::start(Arc::new(ArcSwap::new(gw.state.clone())), &config).unwrap();
    let auth = gw.bearer();
    let input: Vec<String> = (0..3)
        .map(|i| {
            json!({"custom_id": format!("c{i}"), "method": "POST", "url": "/v1/chat/completions",
                   "body": {"model": "gpt-test", "messages": [{"role": "user", "content": format!("line {i}")}]}})
            .to_string()
        })
        .collect();
    let boundary = "s3-test-boundary-1234567890";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n{}\r\n--{boundary}--\r\n",
        input.join("\n")
    );
    let ct = format!("multipart/form-data; boundary={boundary}");
    let up = send(
        Method::POST,
        &gw.url("/v1/files"),
        body,
        &[
            ("authorization", auth.as_str()),
            ("content-type", ct.as_str()),
        ],
    )
    .await;
    assert_eq!(up.status, 200, "{:?}", up.body);
    let file = up.json()["id"].as_str().unwrap().to_owned();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let created = send(
        Method::POST,
        &gw.url("/v1/batches"),
        json!({"input_file_id": file, "endpoint": "/v1/chat/completions", "completion_window": "24h"}).to_string(),
        &headers,
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let mut batch = Value::Null;
    for _ in 0..1000 {
        batch = send(
            Method::GET,
            &gw.url(&format!("/v1/batches/{id}")),
            String::new(),
            &headers,
        )
        .await
        .json();
        if batch["status"] == "completed" {
            break;
        }
        assert!(batch["status"] != "failed", "{batch}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(batch["status"], "completed", "{batch}");
    assert_eq!(
        batch["request_counts"],
        json!({"total": 3, "completed": 3, "failed": 0})
    );
    let out = batch["output_file_id"].as_str().unwrap();
    let content = send(
        Method::GET,
        &gw.url(&format!("/v1/files/{out}/content")),
        String::new(),
        &headers,
    )
    .await;
    assert_eq!(content.status, 200);
    let lines: Vec<Value> = String::from_utf8(content.body.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut ids: Vec<&str> = lines
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["c0", "c1", "c2"]);
    // The output lives in the bucket, under the prefix.
    let storage = S3Storage::new(
        &s3_config(&moto),
        HttpClient::new(Duration::from_secs(5)).unwrap(),
    )
    .unwrap();
    assert!(!read_all(&storage, out).await.unwrap().is_empty());
    // Deleting through the API removes the object.
    let deleted = send(
        Method::DELETE,
        &gw.url(&format!("/v1/files/{file}")),
        String::new(),
        &headers,
    )
    .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        read_all(&storage, &file).await.unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
}
