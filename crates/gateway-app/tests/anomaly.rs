//! Behavioural anomaly detection in the running gateway: real HTTP calls against testkit
//! mocks feed the counters (client addresses through `X-Forwarded-For` from a trusted
//! proxy), the test folds with `Anomalies::fold_now` and moves the detector's clock with
//! `Anomalies::advance` (hours of warm-up without waiting; the schedule itself, one fold an
//! hour here, never fires during a test). Asserted: a key used from new client networks is
//! recorded (audit `anomaly.detected`, metric `gateway_anomalies`), alerted (a signed
//! `anomaly.detected` webhook), throttled (its stored `rpm` lowered, then restored after
//! `throttle_minutes`), suspended (calls refused with a 401 in the OpenAI shape) and resumed
//! (`POST /admin/v1/keys/{id}/resume`); credential stuffing raises a network anomaly; an
//! opted-out tenant is not scored; baselines survive a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[allow(dead_code)]
#[path = "webhooks/receiver.rs"]
mod receiver;
#[path = "anomaly/support.rs"]
mod support;

use std::time::Duration;

use common::*;
use http::Method;
use serde_json::{Value, json};

use support::*;

#[tokio::test]
async fn a_key_used_from_new_networks_is_recorded_alerted_throttled_suspended_and_resumed() {
    let receiver = receiver::Receiver::start().await;
    let gw = start(&hooks_section()).await;
    let secret = endpoint(&gw, &receiver, "acme").await;
    let key = key_id(&gw, "acme").await;
    warm_up(&gw, &gw.key).await;

    // Two networks the key never used: score 4, recorded.
    calls_from(&gw, &gw.key, &fresh_addresses(2)).await;
    let raised = gw.state.anomalies.fold_now().await;
    assert_eq!(actions_of(&raised, &key), ["record"], "{raised:?}");
    let events = audit(&gw, "anomaly.detected").await;
    let first = events
        .iter()
        .find(|e| e["target"] == format!("key:{key}"))
        .unwrap_or_else(|| panic!("no audit event for the key in {events:?}"));
    assert_eq!(first["actor"], "system");
    assert_eq!(first["tenant"], "acme");
    assert_eq!(first["details"]["signals"][0]["signal"], "new_networks");
    let metrics = text(&gw.get("/metrics").await);
    assert!(
        metrics.contains("gateway_anomalies_total{action=\"record\",kind=\"key\"} 1"),
        "{metrics}"
    );

    // Three more: score 6, alerted to the tenant's webhook endpoint.
    calls_from(&gw, &gw.key, &fresh_addresses(3)).await;
    let raised = gw.state.anomalies.fold_now().await;
    assert_eq!(actions_of(&raised, &key), ["alert"], "{raised:?}");
    let payloads = received(&receiver, &secret, 1).await;
    let alert = &payloads[0];
    assert_eq!(alert["type"], "anomaly.detected");
    assert_eq!(alert["data"]["id"], key.as_str());
    assert_eq!(alert["data"]["action"], "alert");
    assert_eq!(alert["data"]["kind"], "key");

    // Four more: score 8, throttled to 2 requests a minute (stored, so every instance).
    calls_from(&gw, &gw.key, &fresh_addresses(4)).await;
    let raised = gw.state.anomalies.fold_now().await;
    assert_eq!(actions_of(&raised, &key), ["throttle"], "{raised:?}");
    assert_eq!(stored_key(&gw, &key).await["limits"]["rpm"], 2);
    let statuses = statuses_of(&gw, &gw.key, 4).await;
    assert!(statuses.contains(&429), "throttled: {statuses:?}");
    assert_eq!(audit(&gw, "anomaly.throttle").await.len(), 1);

    // After throttle_minutes the key's own limit (none) is back.
    gw.state.anomalies.advance(Duration::from_secs(11 * 60));
    gw.state.anomalies.fold_now().await;
    assert_eq!(stored_key(&gw, &key).await["limits"].get("rpm"), None);
    let lifted = audit(&gw, "anomaly.throttle_lifted").await;
    assert_eq!(lifted.len(), 1, "{lifted:?}");
    assert_eq!(lifted[0]["target"], format!("key:{key}"));

    // Six more: score 12, suspended: the key is refused until resumed.
    calls_from(&gw, &gw.key, &fresh_addresses(6)).await;
    let raised = gw.state.anomalies.fold_now().await;
    assert_eq!(actions_of(&raised, &key), ["suspend"], "{raised:?}");
    let refused = chat_from(&gw, &gw.key, "10.9.9.9").await;
    assert_eq!(refused.status, 401, "{}", text(&refused));
    let error = refused.json();
    assert_eq!(error["error"]["type"], "authentication_error");
    assert_eq!(error["error"]["code"], "invalid_api_key");
    assert_eq!(stored_key(&gw, &key).await["enabled"], false);
    assert_eq!(audit(&gw, "anomaly.suspend").await.len(), 1);

    let resumed = admin(
        &gw,
        Method::POST,
        &format!("/admin/v1/keys/{key}/resume"),
        Value::Null,
    )
    .await;
    assert_eq!(resumed.status, 200, "{}", text(&resumed));
    assert_eq!(resumed.json()["enabled"], true);
    assert_eq!(chat_from(&gw, &gw.key, "10.9.9.9").await.status, 200);
    assert_eq!(audit(&gw, "key.resume").await.len(), 1);

    // The listing: newest first, the tenant's own for a filter.
    let list = admin(
        &gw,
        Method::GET,
        "/admin/v1/anomalies?tenant=acme&limit=10",
        Value::Null,
    )
    .await;
    assert_eq!(list.status, 200, "{}", text(&list));
    let actions: Vec<String> = list.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "key")
        .map(|a| a["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["suspend", "throttle", "alert", "record"]);
}

#[tokio::test]
async fn credential_stuffing_raises_a_network_anomaly_and_opted_out_tenants_are_not_scored() {
    let gw = start(&format!(
        "{}\nopt_out_tenants = [\"quiet\"]\n",
        anomaly_section()
    ))
    .await;
    let quiet = issue_key(&gw.state, "quiet").await;
    warm_up(&gw, &quiet).await;
    calls_from(&gw, &quiet, &fresh_addresses(6)).await;

    for i in 0..40 {
        let guess = format!("sk-gw-guessed{i:04}xxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        let r = chat_with(&gw, &guess, "198.51.100.77").await;
        assert_eq!(r.status, 401, "{}", text(&r));
    }
    let raised = gw.state.anomalies.fold_now().await;
    assert!(
        raised.iter().all(|a| a.tenant.as_deref() != Some("quiet")),
        "an opted-out tenant was scored: {raised:?}"
    );
    let network = raised
        .iter()
        .find(|a| a.id == "198.51.100.0/24")
        .unwrap_or_else(|| panic!("no network anomaly in {raised:?}"));
    assert_eq!(network.kind.as_str(), "network");
    assert!(network.action.as_str() == "alert", "{network:?}");
    let signals: Vec<&str> = network.signals.iter().map(|s| s.signal.as_str()).collect();
    assert!(signals.contains(&"auth_failures"), "{signals:?}");
    let events = audit(&gw, "anomaly.detected").await;
    assert!(
        events
            .iter()
            .any(|e| e["target"] == "network:198.51.100.0/24" && e["tenant"].is_null()),
        "{events:?}"
    );
    // A tenant administrator's listing has no gateway-wide anomalies; an admin's has them.
    let all = admin(&gw, Method::GET, "/admin/v1/anomalies", Value::Null).await;
    assert!(text(&all).contains("198.51.100.0/24"), "{}", text(&all));
    let bad = admin(&gw, Method::GET, "/admin/v1/anomalies?limit=0", Value::Null).await;
    assert_eq!(bad.status, 400, "{}", text(&bad));
    assert_eq!(bad.json()["error"]["param"], "limit");
}

#[tokio::test]
async fn baselines_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, key) = {
        let gw = Persistent::start(dir.path()).await;
        let key = issue_key(&gw.state, "acme").await;
        warm_up_key(&gw.state, &gw.url(""), &key).await;
        gw.state.anomalies.persist_now().await;
        gw.stop().await;
        (Persistent::start(dir.path()).await, key)
    };
    // The new process's clock is the wall clock again: two hours on, as before.
    gw.state.anomalies.advance(Duration::from_secs(2 * 3600));
    for ip in fresh_addresses(3) {
        let r = chat_at(&gw.url(""), &key, &ip).await;
        assert_eq!(r.status, 200, "{}", text(&r));
    }
    let raised = gw.state.anomalies.fold_now().await;
    // Without the saved baseline the key would be new (not warm) and nothing would score.
    assert!(
        raised
            .iter()
            .any(|a| a.kind.as_str() == "key" && a.tenant.as_deref() == Some("acme")),
        "{raised:?}"
    );
    gw.stop().await;
}

#[test]
fn the_section_is_validated_with_dotted_paths() {
    let err = gateway_app::Config::from_toml_str(
        "[anomaly]\ninterval_secs = 1\nrecord_at = 5.0\nalert_at = 4.0\nbogus = 1\n",
        &|_| None,
        std::iter::empty(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("anomaly"), "{err}");
    let err = gateway_app::Config::from_toml_str(
        "[anomaly]\ninterval_secs = 1\nrecord_at = 5.0\nalert_at = 4.0\n",
        &|_| None,
        std::iter::empty(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("anomaly.interval_secs"), "{err}");
    assert!(err.contains("anomaly.alert_at"), "{err}");
    let ok = gateway_app::Config::from_toml_str("", &|_| None, std::iter::empty()).unwrap();
    assert!(ok.anomaly.enabled);
    assert_eq!(ok.anomaly.throttle_at, None);
    assert_eq!(json!(ok.anomaly.suspend_at), Value::Null);
}
