//! Helpers of the anomaly suite: a gateway with `[anomaly]` thresholds low enough for a
//! handful of calls, calls from chosen client addresses, folding, and reading the audit log.

#![allow(dead_code)]

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::common::*;
use super::receiver::Receiver;
use gateway_app::{AppState, Config, Server};
use gateway_policy::anomaly::{Anomaly, Counters, NET_CELLS};

pub const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";
/// The network every key is warmed up from.
pub const HOME: &str = "10.1.1.1";

/// Scores: each new network adds 2 (one fold an hour: no decay between folds), so 2 new
/// networks record, 3 alert, 4 throttle, 6 suspend.
pub fn anomaly_section() -> String {
    "[anomaly]\ninterval_secs = 3600\nwarm_up_hours = 1\nrecord_at = 3.0\nalert_at = 5.0\n\
     throttle_at = 7.0\nsuspend_at = 11.0\nthrottle_requests_per_minute = 2\n\
     throttle_minutes = 10\ncooldown_minutes = 60\n"
        .to_owned()
}

pub fn hooks_section() -> String {
    format!(
        "{}\n[webhooks]\nallow_private = [\"127.0.0.1/32\"]\nallow_http = true\npoll_interval = \"50ms\"\n",
        anomaly_section()
    )
}

/// A gateway behind a trusted proxy (so `X-Forwarded-For` names the client).
pub async fn start(sections: &str) -> TestGateway {
    TestGateway::start_with_sections(
        "trusted_proxies = [\"127.0.0.0/8\"]",
        &format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n\n{sections}"),
    )
    .await
}

/// `n` client addresses in /24 networks not handed out before, whose networks fall in
/// distinct cells of the counter table's per-interval set (so none hides another).
pub fn fresh_addresses(n: usize) -> Vec<String> {
    static TAKEN: std::sync::Mutex<Option<HashSet<u32>>> = std::sync::Mutex::new(None);
    let hashes = Counters::new(16);
    let mut taken = TAKEN.lock().unwrap();
    let taken = taken.get_or_insert_with(|| {
        let home: IpAddr = HOME.parse().unwrap();
        HashSet::from([hashes.network_hash(home)])
    });
    let mut cells = HashSet::new();
    let mut out = Vec::new();
    for a in 64..128u32 {
        for b in 0..=255u32 {
            if out.len() == n {
                return out;
            }
            let ip = format!("100.{a}.{b}.5");
            let hash = hashes.network_hash(ip.parse().unwrap());
            if !taken.contains(&hash) && cells.insert(hash as usize % NET_CELLS) {
                taken.insert(hash);
                out.push(ip);
            }
        }
    }
    out
}

/// A reply's body as text (for messages).
pub fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

pub async fn chat_at(base: &str, key: &str, ip: &str) -> Reply {
    let auth = format!("Bearer {key}");
    send(
        Method::POST,
        &format!("{base}/v1/chat/completions"),
        chat_body("gpt-test", false),
        &[
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
            ("x-forwarded-for", ip),
        ],
    )
    .await
}

pub async fn chat_from(gw: &TestGateway, key: &str, ip: &str) -> Reply {
    chat_at(&gw.url(""), key, ip).await
}

pub async fn chat_with(gw: &TestGateway, key: &str, ip: &str) -> Reply {
    chat_from(gw, key, ip).await
}

/// One successful call from each address.
pub async fn calls_from(gw: &TestGateway, key: &str, ips: &[String]) {
    for ip in ips {
        let r = chat_from(gw, key, ip).await;
        assert_eq!(r.status, 200, "{}", text(&r));
    }
}

/// Statuses of `n` calls from the home network.
pub async fn statuses_of(gw: &TestGateway, key: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(chat_from(gw, key, HOME).await.status.as_u16());
    }
    out
}

/// A call from the home network, a fold (the key is first seen: its network is learned),
/// two hours on (past the warm-up), then a busy interval from 12 addresses of the home
/// network, folded: the hour's baseline expects a dozen calls from a dozen addresses, so the
/// handful of calls from new networks that follow score on novelty alone.
pub async fn warm_up_key(state: &Arc<AppState>, base: &str, key: &str) {
    let r = chat_at(base, key, HOME).await;
    assert_eq!(r.status, 200, "{}", text(&r));
    assert!(state.anomalies.fold_now().await.is_empty());
    state.anomalies.advance(Duration::from_secs(2 * 3600));
    for host in 1..=12 {
        let r = chat_at(base, key, &format!("10.1.1.{host}")).await;
        assert_eq!(r.status, 200, "{}", text(&r));
    }
    let raised = state.anomalies.fold_now().await;
    assert!(raised.is_empty(), "{raised:?}");
}

pub async fn warm_up(gw: &TestGateway, key: &str) {
    warm_up_key(&gw.state, &gw.url(""), key).await;
}

/// The actions raised for key `key`.
pub fn actions_of(raised: &[Anomaly], key: &str) -> Vec<&'static str> {
    raised
        .iter()
        .filter(|a| a.kind.as_str() == "key" && a.id == key)
        .map(|a| a.action.as_str())
        .collect()
}

pub async fn admin(gw: &TestGateway, method: Method, path: &str, body: Value) -> Reply {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    send(
        method,
        &gw.url(path),
        body,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await
}

/// The id of the (first) key of `tenant`.
pub async fn key_id(gw: &TestGateway, tenant: &str) -> String {
    let keys = gw
        .state
        .store
        .list_keys(Some(&gateway_core::TenantId::new(tenant)))
        .await
        .unwrap();
    keys[0].id.clone()
}

pub async fn stored_key(gw: &TestGateway, id: &str) -> Value {
    let r = admin(
        gw,
        Method::GET,
        &format!("/admin/v1/keys/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", text(&r));
    r.json()
}

/// The audit records of `action` (after the buffered ones are written).
pub async fn audit(gw: &TestGateway, action: &str) -> Vec<Value> {
    gw.state.telemetry.flush().await;
    let r = admin(
        gw,
        Method::GET,
        &format!("/admin/v1/audit?action={action}&limit=1000"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", text(&r));
    r.json()["data"].as_array().unwrap().clone()
}

/// An endpoint of `tenant` for `anomaly.detected`; returns its secret.
pub async fn endpoint(gw: &TestGateway, receiver: &Receiver, tenant: &str) -> String {
    let reply = admin(
        gw,
        Method::POST,
        "/admin/v1/webhooks",
        json!({ "tenant": tenant, "url": receiver.url("/hook"), "events": ["anomaly.detected"] }),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", text(&reply));
    reply.json()["secret"].as_str().unwrap().to_owned()
}

/// Waits until `n` payloads arrived; returns them, each checked against `secret`.
pub async fn received(receiver: &Receiver, secret: &str, n: usize) -> Vec<Value> {
    let ok =
        gateway_testkit::eventually(Duration::from_secs(10), || receiver.received().len() >= n)
            .await;
    assert!(ok, "{} payloads", receiver.received().len());
    receiver
        .received()
        .iter()
        .map(|r| {
            assert!(r.verifies_with(secret), "bad signature on {}", r.body);
            serde_json::from_str(&r.body).unwrap()
        })
        .collect()
}

/// A gateway over a SQLite file in `dir` (so that a second one finds what the first saved).
pub struct Persistent {
    pub state: Arc<AppState>,
    addr: std::net::SocketAddr,
    _mock: gateway_testkit::MockServer,
    shutdown: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<bool>,
}

impl Persistent {
    pub async fn start(dir: &Path) -> Persistent {
        let mock = gateway_testkit::MockServer::start().await.unwrap();
        let server = format!(
            "trusted_proxies = [\"127.0.0.0/8\"]\ndata_dir = {:?}",
            dir.display().to_string()
        );
        let text = format!("{}\n{}", config_text(&mock, &server), anomaly_section());
        let config = Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap();
        let state = AppState::build(&config).await.unwrap();
        let server = Server::bind(&config.server).await.unwrap();
        let addr = server.local_addr().unwrap();
        let (shutdown, rx) = oneshot::channel();
        let done = tokio::spawn(server.run(state.clone(), async move {
            let _ = rx.await;
        }));
        Persistent {
            state,
            addr,
            _mock: mock,
            shutdown,
            done,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.done.await;
        self.state.telemetry.flush().await;
        self.state.close().await;
    }
}
