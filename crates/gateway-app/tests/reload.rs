//! Configuration reload while serving: a good configuration replaces routes at once, a bad one
//! is rejected whole while traffic goes on, and both attempts are audited.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use arc_swap::ArcSwap;
use gateway_app::Config;
use gateway_app::reload::{ReloadError, reload};
use gateway_core::store::{AuditOutcome, AuditQuery};
use http::Method;

#[tokio::test]
async fn reload_swaps_routes_and_rejects_bad_files_whole() {
    let gw = common::TestGateway::start().await;
    let states = ArcSwap::new(gw.state.clone());
    let base = common::config_text(&gw.mock, "");

    let good = format!(
        "{base}\n[models.added-later]\nprovider = \"mock\"\nupstream_model = \"gpt-4o-mini\"\n"
    );
    reload(&states, || {
        Config::from_toml_str(&good, &|_| None, std::iter::empty())
    })
    .unwrap();
    let next = states.load_full();
    assert!(next.gateway.router().knows("added-later"));
    assert!(
        Arc::ptr_eq(&next.telemetry, &gw.state.telemetry),
        "lasting parts are kept"
    );

    let bad = format!("{base}\n[models.broken]\nprovider = \"nowhere\"\nupstream_model = \"x\"\n");
    let err = reload(&states, || {
        Config::from_toml_str(&bad, &|_| None, std::iter::empty())
    })
    .unwrap_err();
    assert!(
        matches!(&err, ReloadError::Invalid(e) if e.0.iter().any(|p| p.path == "models.broken.provider")),
        "{err}"
    );
    assert!(
        states.load_full().gateway.router().knows("added-later"),
        "the previous configuration stays"
    );

    // The running server keeps answering on its own state meanwhile.
    let reply = common::send(Method::GET, &gw.url("/health"), "", &[]).await;
    assert_eq!(reply.status, 200);

    gw.state.telemetry.flush().await;
    let query = AuditQuery {
        action: Some("config.reload".to_owned()),
        ..AuditQuery::default()
    };
    let records = gw.state.store.list_audit(&query).await.unwrap();
    let outcomes: Vec<AuditOutcome> = records.iter().map(|r| r.event.outcome).collect();
    assert_eq!(outcomes, [AuditOutcome::Success, AuditOutcome::Failure]);
}
