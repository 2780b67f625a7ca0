//! The per-call series of one (route, model, provider, status, tenant), found with one hash
//! lookup per call instead of one per family: each `Family::get_or_create` hashes its label
//! set with SipHash and takes the family's lock, seven times for an ordinary call.
//!
//! A series is created in its family on first use only (`OnceLock`), so the exposition is
//! the same as when every call looked each series up. Handles are clones of the family's
//! metric (they share its atomics), and families are never cleared, so a cached handle stays
//! the series the family exposes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use super::CostCounter;

/// Which per-call series a call belongs to.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(super) struct SeriesKey {
    pub(super) route: &'static str,
    pub(super) status: u16,
    pub(super) model: Arc<str>,
    pub(super) provider: Arc<str>,
    pub(super) tenant: Arc<str>,
}

/// The handles of one [`SeriesKey`], each filled on first use.
#[derive(Default)]
pub(super) struct CallSeries {
    pub(super) calls: OnceLock<Counter>,
    pub(super) duration: OnceLock<Histogram>,
    pub(super) upstream: OnceLock<Histogram>,
    pub(super) overhead: OnceLock<Histogram>,
    pub(super) ttft: OnceLock<Histogram>,
    pub(super) prompt_tokens: OnceLock<Counter>,
    pub(super) completion_tokens: OnceLock<Counter>,
    pub(super) cost: OnceLock<CostCounter>,
    pub(super) quality: super::quality::QualitySeries,
}

/// The series met so far. Bounded by the label sets the families hold anyway.
#[derive(Default)]
pub(super) struct SeriesCache {
    map: RwLock<HashMap<SeriesKey, Arc<CallSeries>, foldhash::fast::RandomState>>,
}

impl std::fmt::Debug for SeriesCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesCache").finish_non_exhaustive()
    }
}

impl SeriesCache {
    pub(super) fn get(&self, key: SeriesKey) -> Arc<CallSeries> {
        // A poisoned lock only means a panic elsewhere while it was held; the map is intact.
        if let Some(series) = self.map.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return series.clone();
        }
        self.map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default()
            .clone()
    }
}
