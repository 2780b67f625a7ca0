//! The folder: once per interval, off the request path, it drains the counter table into
//! each entity's baselines, scores them, and decides what to do about high scores.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::config::AnomalyConfig;
use super::counters::{Counters, EntityKind, Sample};
use super::entity::{EntityState, Scoring, SignalScore};

/// What the gateway does about an anomaly, in increasing order of severity. Each level
/// includes the ones below it (a suspension is also recorded and alerted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyAction {
    /// An audit event and a metric.
    Record,
    /// Also the webhook event `anomaly.detected` (or a warning log without webhooks).
    Alert,
    /// Also a temporary reduced rate limit on the key.
    Throttle,
    /// Also the key is suspended until an administrator resumes it.
    Suspend,
}

impl AnomalyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyAction::Record => "record",
            AnomalyAction::Alert => "alert",
            AnomalyAction::Throttle => "throttle",
            AnomalyAction::Suspend => "suspend",
        }
    }

    fn level(self) -> u8 {
        self as u8 + 1
    }
}

/// One anomaly: an entity whose overall score crossed a configured threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// When it was detected (unix seconds).
    pub at: u64,
    pub kind: EntityKind,
    pub id: String,
    pub tenant: Option<String>,
    /// The overall score: the highest signal score.
    pub score: f64,
    pub action: AnomalyAction,
    /// Every signal that scored, highest first.
    pub signals: Vec<SignalScore>,
}

/// An entity's state as persisted.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntity {
    pub kind: EntityKind,
    pub id: String,
    pub tenant: Option<String>,
    /// [`EntityState`] as JSON.
    pub state: String,
    pub updated_at: u64,
}

/// A tracked entity and the slot its counters are in, if any.
struct Tracked {
    state: EntityState,
    slot: Option<usize>,
}

/// Baselines and scoring for every tracked entity. Owned by one background task.
pub struct Detector {
    config: AnomalyConfig,
    entities: HashMap<u64, Tracked>,
}

impl Detector {
    pub fn new(config: AnomalyConfig) -> Self {
        Detector {
            config,
            entities: HashMap::new(),
        }
    }

    pub fn config(&self) -> &AnomalyConfig {
        &self.config
    }

    /// Replaces the configuration (a reload); the baselines stay.
    pub fn set_config(&mut self, config: AnomalyConfig) {
        self.config = config;
    }

    /// How many entities are tracked.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// The state of one entity, if tracked.
    pub fn entity(&self, counters: &Counters, kind: EntityKind, id: &str) -> Option<&EntityState> {
        self.entities
            .get(&counters.entity_tag(kind, id))
            .map(|t| &t.state)
    }

    /// One interval: drain every slot, score, learn, and return the anomalies to act on.
    pub fn fold(&mut self, counters: &Counters, now: u64) -> Vec<Anomaly> {
        for placed in counters.take_placed() {
            let tracked = self.entities.entry(placed.tag).or_insert_with(|| Tracked {
                state: EntityState::new(placed.kind, placed.id, placed.tenant, now),
                slot: None,
            });
            tracked.slot = Some(placed.slot);
        }
        let c = &self.config;
        let interval = c.interval_secs.max(1);
        let warm_up = c.warm_up_hours * 3600;
        // A warm hour has seen half of what the warm-up offers it.
        let warm_hour = ((warm_up / interval) / 48).max(1) as u32;
        let cooldown = u64::from(c.cooldown_minutes) * 60;
        let idle_release = u64::from(c.idle_release_minutes) * 60;
        let mut anomalies = Vec::new();
        let empty = Sample::default();
        let mut tags: Vec<u64> = self.entities.keys().copied().collect();
        tags.sort_unstable();
        for tag in tags {
            let Some(tracked) = self.entities.get_mut(&tag) else {
                continue;
            };
            let sample = tracked
                .slot
                .and_then(|slot| counters.drain(slot, tag))
                .unwrap_or_else(|| empty.clone());
            let state = &mut tracked.state;
            if state.tenant.as_ref().is_some_and(|t| c.opted_out(t)) {
                continue;
            }
            let open = state
                .last_event
                .is_some_and(|(at, _)| now.saturating_sub(at) < cooldown);
            let scoring = Scoring {
                now,
                interval_secs: interval,
                warm: now.saturating_sub(state.first_seen) >= warm_up,
                warm_hour,
                learn: !open,
            };
            let mut scores = state.step(&sample, &scoring);
            if let Some(slot) = tracked.slot
                && sample.is_empty()
                && now.saturating_sub(state.last_active) >= idle_release
            {
                counters.release(slot, tag);
                tracked.slot = None;
            }
            scores.sort_by(|a, b| b.score.total_cmp(&a.score));
            let score = scores.first().map_or(0.0, |s| s.score);
            let Some(action) = c.action_for(state.kind, score) else {
                continue;
            };
            let repeat = state
                .last_event
                .is_some_and(|(_, level)| open && level >= action.level());
            if repeat {
                continue;
            }
            state.last_event = Some((now, action.level()));
            scores.retain(|s| s.score >= 1.0);
            anomalies.push(Anomaly {
                at: now,
                kind: state.kind,
                id: state.id.clone(),
                tenant: state.tenant.clone(),
                score,
                action,
                signals: scores,
            });
        }
        self.evict(counters);
        anomalies
    }

    /// Keeps at most `max_entities` tracked: the longest idle go first.
    fn evict(&mut self, counters: &Counters) {
        let max = self.config.max_entities.max(1);
        if self.entities.len() <= max {
            return;
        }
        let mut by_age: Vec<(u64, u64)> = self
            .entities
            .iter()
            .map(|(tag, t)| (t.state.last_active, *tag))
            .collect();
        by_age.sort_unstable();
        for (_, tag) in by_age.into_iter().take(self.entities.len() - max) {
            if let Some(t) = self.entities.remove(&tag)
                && let Some(slot) = t.slot
            {
                counters.release(slot, tag);
            }
        }
    }

    /// The entities active at or after `since` (unix seconds), for persisting.
    pub fn export(&self, since: u64) -> Vec<StoredEntity> {
        let mut out: Vec<StoredEntity> = self
            .entities
            .values()
            .filter(|t| t.state.last_active >= since)
            .filter_map(|t| {
                Some(StoredEntity {
                    kind: t.state.kind,
                    id: t.state.id.clone(),
                    tenant: t.state.tenant.clone(),
                    state: serde_json::to_string(&t.state).ok()?,
                    updated_at: t.state.last_active,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        out
    }

    /// Restores persisted entities (a state that no longer parses is skipped and counted).
    pub fn import(&mut self, counters: &Counters, stored: Vec<StoredEntity>) -> usize {
        let mut skipped = 0;
        for s in stored {
            let Ok(state) = serde_json::from_str::<EntityState>(&s.state) else {
                skipped += 1;
                continue;
            };
            if state.kind != s.kind || state.id != s.id {
                skipped += 1;
                continue;
            }
            let tag = counters.entity_tag(state.kind, &state.id);
            match self.entities.get_mut(&tag) {
                Some(tracked) => tracked.state = state,
                None => {
                    self.entities.insert(tag, Tracked { state, slot: None });
                }
            }
        }
        skipped
    }
}
