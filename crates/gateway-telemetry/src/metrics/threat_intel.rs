//! Series of the threat-intelligence feeds: each refresh's outcome, the entries in force,
//! and the matches on the request path (by kind and feed). Feed names come from the
//! configuration, so the label sets are bounded.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedOutcome {
    feed: Arc<str>,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabel {
    feed: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MatchLabels {
    kind: &'static str,
    feed: Arc<str>,
}

#[derive(Debug, Default)]
pub struct ThreatIntelMetrics {
    refreshes: Family<FeedOutcome, Counter>,
    entries: Family<FeedLabel, Gauge>,
    matches: Family<MatchLabels, Counter>,
}

impl ThreatIntelMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "gateway_threat_intel_refreshes",
            "Threat-intelligence feed loads by outcome: updated, unchanged, restored (the last good copy on disk), fetch_failed, verify_failed, parse_failed",
            self.refreshes.clone(),
        );
        r.register(
            "gateway_threat_intel_entries",
            "Entries in force per threat-intelligence feed",
            self.entries.clone(),
        );
        r.register(
            "gateway_threat_intel_matches",
            "Requests that matched a threat-intelligence feed, by kind (ip_blocklist, prompt_signatures, leaked_keys) and feed",
            self.matches.clone(),
        );
    }

    /// One load of `feed` ended with `outcome`.
    pub fn refresh(&self, feed: &str, outcome: &'static str) {
        self.refreshes
            .get_or_create(&FeedOutcome {
                feed: Arc::from(feed),
                outcome,
            })
            .inc();
    }

    /// `feed` now holds `entries` entries.
    pub fn entries(&self, feed: &str, entries: usize) {
        self.entries
            .get_or_create(&FeedLabel {
                feed: Arc::from(feed),
            })
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
    }

    /// A request matched `feed`, a feed of `kind`.
    pub fn matched(&self, kind: &'static str, feed: &Arc<str>) {
        self.matches
            .get_or_create(&MatchLabels {
                kind,
                feed: feed.clone(),
            })
            .inc();
    }
}
