//! Behavioural anomaly detection: per key, tenant and client network, robust rolling
//! baselines of how they are used, and a score per signal and overall.
//!
//! Two halves, on either side of the request path:
//!
//! - [`Counters`] (`counters.rs`) is all a request touches: a fixed table of per-entity
//!   atomic counters (requests, tokens, cost, errors, refusals, guardrail findings, a small
//!   HyperLogLog of client addresses, a bounded set of client networks and models; for failed
//!   authentications, per client network, tenant and gateway, the count and a HyperLogLog of
//!   the credentials presented). No lock and no allocation once an entity has a slot; the
//!   table never grows ([`AnomalyConfig::max_entities`] slots).
//! - [`Detector`] (`detector.rs`), owned by one background task, folds the counters every
//!   [`AnomalyConfig::interval_secs`] into per-entity baselines (`stats.rs`: EWMA mean and
//!   variance per hour of the day, winsorised), scores each signal over decaying windows of
//!   5 minutes, an hour and six hours (`entity.rs`), adds novelty scores (a client network or
//!   a model the key never used), and turns the overall score — the highest signal score —
//!   into an [`Anomaly`] with the [`AnomalyAction`] the configuration maps it to.
//!
//! The crate does no I/O here: persisting baselines ([`Detector::export`],
//! [`Detector::import`]) and carrying out actions are the application's.

mod config;
mod counters;
mod detector;
mod entity;
mod signals;
mod stats;

pub use config::AnomalyConfig;
pub use counters::{
    CallObservation, Counters, EntityKind, NET_CELLS, Placed, Sample, network_label, network_of,
};
pub use detector::{Anomaly, AnomalyAction, Detector, StoredEntity};
pub use entity::{EntityState, SignalScore};
pub use signals::Signal;
