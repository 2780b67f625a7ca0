//! What anomaly detection keeps across restarts: each tracked entity's learned baseline (an
//! opaque JSON state the detector exports) and the throttles in force, so that a throttled
//! key gets its own rate limit back even when the instance that throttled it restarted.

use async_trait::async_trait;

use crate::error::GatewayError;

/// One entity's baseline as stored (`kind` + `id` is the identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBaseline {
    /// `key`, `tenant`, `network` or `gateway`.
    pub kind: String,
    pub id: String,
    pub tenant: Option<String>,
    /// The detector's state, JSON; never interpreted by the store.
    pub state: String,
    /// When the entity was last active (unix seconds).
    pub updated_at: u64,
}

/// A key held to a lower rate limit by anomaly detection until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnomalyThrottle {
    pub key_id: String,
    /// The key's own `rpm` limit before the throttle (restored after it).
    pub previous_rpm: Option<u64>,
    /// The `rpm` the throttle set (restored only if the key still has it).
    pub throttled_rpm: u64,
    /// When the throttle ends (unix seconds).
    pub until: u64,
}

/// Baselines and throttles of anomaly detection.
#[async_trait]
pub trait AnomalyStore: Send + Sync {
    /// Inserts or replaces each baseline (by kind and id), in one transaction.
    async fn save_anomaly_baselines(&self, rows: &[StoredBaseline]) -> Result<(), GatewayError>;
    /// The `limit` most recently active baselines.
    async fn load_anomaly_baselines(
        &self,
        limit: usize,
    ) -> Result<Vec<StoredBaseline>, GatewayError>;
    /// Deletes the baselines last active before `before` (unix seconds); returns how many.
    async fn prune_anomaly_baselines(&self, before: u64) -> Result<u64, GatewayError>;
    /// Records a throttle; an existing one for the key keeps its `previous_rpm` and gets the
    /// later `until`.
    async fn put_anomaly_throttle(&self, throttle: &AnomalyThrottle) -> Result<(), GatewayError>;
    /// Throttles that end at or before `now` (unix seconds).
    async fn due_anomaly_throttles(&self, now: u64) -> Result<Vec<AnomalyThrottle>, GatewayError>;
    /// Deletes a throttle; `true` when this call deleted it (one instance lifts it).
    async fn delete_anomaly_throttle(&self, key_id: &str) -> Result<bool, GatewayError>;
}
