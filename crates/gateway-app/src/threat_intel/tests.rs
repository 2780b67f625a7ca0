//! The refresh task under paused time (the schedule) and asked for loads
//! ([`ThreatIntelFeeds::refresh_now`]), never a wall-clock wait: an update swaps the set atomically, a bad update
//! (unparsable, wrong checksum) keeps the set in force, and the last good copy on disk is in
//! force at the next start when the source is unreachable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::config::FormatName;
use gateway_policy::threat_intel::{FeedAction, FeedKind};

fn feed(source: &Path, sha256: Option<String>) -> FeedConfig {
    FeedConfig {
        name: "drop".to_owned(),
        kind: FeedKind::IpBlocklist,
        format: FormatName::Plain,
        column: None,
        source: source.display().to_string(),
        refresh: Duration::from_secs(60),
        sha256,
        public_key: None,
        signature_source: None,
        action: FeedAction::Block,
        max_bytes: 1024,
    }
}

fn config(feed: FeedConfig) -> ThreatIntelConfig {
    ThreatIntelConfig {
        feeds: vec![feed],
        ..ThreatIntelConfig::default()
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn outcomes_seen(metrics: &Metrics, outcome: &str) -> bool {
    metrics.encode().lines().any(|l| {
        l.starts_with("gateway_threat_intel_refreshes_total")
            && l.contains(&format!("outcome=\"{outcome}\""))
    })
}

#[tokio::test(start_paused = true)]
async fn updates_swap_bad_ones_keep_the_set_and_the_copy_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("drop.txt");
    let copies = dir.path().join("copies");
    std::fs::write(&source, "198.51.100.0/24\n").unwrap();
    let metrics = Arc::new(Metrics::default());
    let feeds = ThreatIntelFeeds::start(
        &config(feed(&source, None)),
        Some(copies.clone()),
        metrics.clone(),
    );
    let intel = feeds.intel().clone();
    let mut loads = feeds.loads();
    loads.wait_for(|n| *n >= 1).await.unwrap();
    assert!(intel.blocked_address(ip("198.51.100.1")).is_some());
    let copy = copies.join("drop.feed");
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "198.51.100.0/24\n");

    // A new version replaces the old one whole at the next refresh (60 s), not before.
    std::fs::write(&source, "203.0.113.0/24\n").unwrap();
    let written = tokio::time::Instant::now();
    loads.mark_unchanged();
    tokio::time::advance(Duration::from_secs(30)).await;
    tokio::task::yield_now().await;
    assert!(!loads.has_changed().unwrap(), "not yet due");
    assert!(intel.blocked_address(ip("198.51.100.1")).is_some());
    // Nothing else to do: the paused clock moves to the next refresh.
    loads.changed().await.unwrap();
    assert!(written.elapsed() >= Duration::from_secs(60));
    assert!(intel.blocked_address(ip("203.0.113.1")).is_some());
    assert!(intel.blocked_address(ip("198.51.100.1")).is_none());
    assert_eq!(intel.entries("drop"), Some(1));

    // A bad update is refused whole; the set in force and the copy stay.
    std::fs::write(&source, "203.0.113.0/24\nnot-an-address\n").unwrap();
    let outcomes = feeds.refresh_now().await;
    assert!(
        matches!(outcomes.as_slice(), [(name, Outcome::ParseFailed(_))] if name == "drop"),
        "{outcomes:?}"
    );
    assert!(outcomes_seen(&metrics, "parse_failed"));
    assert!(intel.blocked_address(ip("203.0.113.1")).is_some());
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "203.0.113.0/24\n");
    drop(feeds);

    // The next start finds the source gone: the copy is in force.
    std::fs::remove_file(&source).unwrap();
    let metrics = Arc::new(Metrics::default());
    let feeds = ThreatIntelFeeds::start(
        &config(feed(&source, None)),
        Some(copies.clone()),
        metrics.clone(),
    );
    let outcomes = feeds.refresh_now().await;
    assert!(
        matches!(outcomes.as_slice(), [(_, Outcome::FetchFailed(_))]),
        "{outcomes:?}"
    );
    assert!(outcomes_seen(&metrics, "restored"));
    assert!(feeds.intel().blocked_address(ip("203.0.113.1")).is_some());
}

#[tokio::test(start_paused = true)]
async fn a_checksum_mismatch_is_never_used() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("drop.txt");
    std::fs::write(&source, "198.51.100.0/24\n").unwrap();
    let pin = verify::sha256_hex(b"198.51.100.0/24\n");
    let metrics = Arc::new(Metrics::default());
    let feeds = ThreatIntelFeeds::start(
        &config(feed(&source, Some(pin))),
        Some(dir.path().join("copies")),
        metrics.clone(),
    );
    let intel = feeds.intel().clone();
    let outcomes = feeds.refresh_now().await;
    assert!(
        matches!(outcomes.as_slice(), [(_, Outcome::Unchanged)]),
        "the load at start put it in force: {outcomes:?}"
    );
    assert!(intel.blocked_address(ip("198.51.100.1")).is_some());
    // The feed changes but the pin does not: refused, the pinned set stays.
    std::fs::write(&source, "0.0.0.0/0\n").unwrap();
    let outcomes = feeds.refresh_now().await;
    assert!(
        matches!(outcomes.as_slice(), [(_, Outcome::VerifyFailed(_))]),
        "{outcomes:?}"
    );
    assert!(outcomes_seen(&metrics, "verify_failed"));
    assert!(intel.blocked_address(ip("192.0.2.1")).is_none());
    assert!(intel.blocked_address(ip("198.51.100.1")).is_some());
    // Bigger than max_bytes: refused before parsing.
    std::fs::write(&source, "1.2.3.4\n".repeat(200)).unwrap();
    let outcomes = feeds.refresh_now().await;
    assert!(
        matches!(outcomes.as_slice(), [(_, Outcome::FetchFailed(_))]),
        "{outcomes:?}"
    );
    assert!(intel.blocked_address(ip("1.2.3.4")).is_none());
}
