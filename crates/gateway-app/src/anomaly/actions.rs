//! Carrying out what the detector decided, by severity (each level includes the ones below
//! it): record (audit event `anomaly.detected`, metric `gateway_anomalies{action}`), alert
//! (webhook event `anomaly.detected` to the tenant's endpoints; for an anomaly with no tenant,
//! scope `network`, to the endpoints of the operator tenant (`[webhooks] operator_tenant`);
//! a warning log line with target `gateway::anomaly` when there is no such route), throttle (the key's stored `rpm`
//! lowered for `throttle_minutes`, then restored) and suspend (the key disabled until an
//! administrator resumes it). Throttles and suspensions go through the key manager, so the
//! change feed carries them to every instance. Failures are logged, never retried blindly:
//! the next anomaly acts again.

use std::sync::Arc;
use std::time::SystemTime;

use gateway_auth::KeyManager;
use gateway_core::TenantId;
use gateway_core::phases::account::AuditSink;
use gateway_core::store::{AnomalyStore, AnomalyThrottle, AuditEvent, AuditOutcome};
use gateway_policy::anomaly::{Anomaly, AnomalyAction, AnomalyConfig, EntityKind};
use serde_json::{Value, json};

use super::view::{target, view};
use crate::webhooks::{Event, WebhookEvents};

/// The log target of alerts that reach no webhook.
pub const LOG_TARGET: &str = "gateway::anomaly";

/// What the watcher acts through; each part is optional (the edge profile has no store).
#[derive(Clone, Default)]
pub struct Actors {
    pub telemetry: Option<Arc<gateway_telemetry::Telemetry>>,
    /// Throttles and suspensions (none: keys are never changed).
    pub keys: Option<KeyManager>,
    /// Baselines and throttles (none: nothing persists).
    pub store: Option<Arc<dyn AnomalyStore>>,
    pub webhooks: Option<WebhookEvents>,
    /// Whose endpoints receive the anomalies that have no tenant (`[webhooks]
    /// operator_tenant`); `None`: they are logged only (never sent to every tenant).
    pub operator_tenant: Option<TenantId>,
}

impl Actors {
    fn audit(&self, action: &str, tenant: Option<&str>, target: String, details: Value) {
        if let Some(t) = &self.telemetry {
            t.audit(AuditEvent {
                at: SystemTime::now(),
                tenant: tenant.map(TenantId::new),
                actor: "system".to_owned(),
                action: action.to_owned(),
                target: Some(target),
                outcome: AuditOutcome::Success,
                ip: None,
                details,
            });
        }
    }

    /// Everything one anomaly calls for.
    pub async fn act(&self, a: &Anomaly, config: &AnomalyConfig, now: u64) {
        let data = serde_json::to_value(view(a)).unwrap_or(Value::Null);
        self.audit(
            "anomaly.detected",
            a.tenant.as_deref(),
            target(a),
            data.clone(),
        );
        if let Some(t) = &self.telemetry {
            t.metrics()
                .anomaly()
                .raised(a.action.as_str(), a.kind.as_str());
        }
        if a.action >= AnomalyAction::Alert {
            self.alert(a, data);
        }
        if a.kind != EntityKind::Key {
            return;
        }
        match a.action {
            AnomalyAction::Throttle => self.throttle(a, config, now).await,
            AnomalyAction::Suspend => self.suspend(a).await,
            _ => {}
        }
    }

    fn alert(&self, a: &Anomaly, data: Value) {
        // A tenant's anomaly goes to the tenant; one that names no tenant (a network's or the
        // gateway's failed authentications) to the operator, never to every tenant's
        // endpoints: it may be about another tenant's keys.
        let to = match &a.tenant {
            Some(tenant) => Some(TenantId::new(tenant)),
            None => self.operator_tenant.clone(),
        };
        match (to, &self.webhooks) {
            (Some(tenant), Some(hooks)) => {
                hooks.emit(Event::new(&tenant, "anomaly.detected", data));
            }
            _ => {
                let signals: Vec<&str> = a.signals.iter().map(|s| s.signal.as_str()).collect();
                tracing::warn!(
                    target: LOG_TARGET,
                    kind = a.kind.as_str(),
                    id = %a.id,
                    tenant = a.tenant.as_deref(),
                    score = a.score,
                    action = a.action.as_str(),
                    ?signals,
                    "anomaly detected"
                );
            }
        }
    }

    async fn throttle(&self, a: &Anomaly, config: &AnomalyConfig, now: u64) {
        let (Some(keys), Some(store)) = (&self.keys, &self.store) else {
            return;
        };
        let Ok(mut key) = keys.get(&a.id).await else {
            return; // a JWT subject or a deleted key: nothing to throttle
        };
        if key.revoked_at.is_some() {
            return;
        }
        let rpm = u64::from(config.throttle_requests_per_minute);
        let previous = key.limits.rpm;
        if previous.is_some_and(|p| p < rpm) {
            return; // already held to less than the throttle
        }
        let until = now + u64::from(config.throttle_minutes) * 60;
        let throttle = AnomalyThrottle {
            key_id: key.id.clone(),
            previous_rpm: key.limits.rpm,
            throttled_rpm: rpm,
            until,
        };
        if let Err(e) = store.put_anomaly_throttle(&throttle).await {
            tracing::error!(target: LOG_TARGET, key = %key.id, error = %e, "could not record a throttle");
            return;
        }
        if previous != Some(rpm) {
            key.limits.rpm = Some(rpm);
            if let Err(e) = keys.update(&key).await {
                tracing::error!(target: LOG_TARGET, key = %key.id, error = %e, "could not throttle a key");
                return;
            }
        }
        self.audit(
            "anomaly.throttle",
            Some(key.tenant.as_str()),
            format!("key:{}", key.id),
            json!({ "rpm": rpm, "previous_rpm": previous, "minutes": config.throttle_minutes,
                    "score": a.score }),
        );
    }

    async fn suspend(&self, a: &Anomaly) {
        let Some(keys) = &self.keys else {
            return;
        };
        let Ok(key) = keys.get(&a.id).await else {
            return;
        };
        if key.revoked_at.is_some() || !key.enabled {
            return;
        }
        if let Err(e) = keys.set_enabled(&key.id, false).await {
            tracing::error!(target: LOG_TARGET, key = %key.id, error = %e, "could not suspend a key");
            return;
        }
        self.audit(
            "anomaly.suspend",
            Some(key.tenant.as_str()),
            format!("key:{}", key.id),
            json!({ "score": a.score, "resume": format!("/admin/v1/keys/{}/resume", key.id) }),
        );
    }

    /// Gives throttled keys whose throttle ran out their own `rpm` back (unless an
    /// administrator changed it meanwhile). One instance lifts each throttle.
    pub async fn lift_throttles(&self, now: u64) {
        let (Some(keys), Some(store)) = (&self.keys, &self.store) else {
            return;
        };
        let due = match store.due_anomaly_throttles(now).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(target: LOG_TARGET, error = %e, "could not read throttles");
                return;
            }
        };
        for t in due {
            if !matches!(store.delete_anomaly_throttle(&t.key_id).await, Ok(true)) {
                continue;
            }
            let Ok(mut key) = keys.get(&t.key_id).await else {
                continue;
            };
            let ours = key.limits.rpm == Some(t.throttled_rpm) && key.revoked_at.is_none();
            if ours {
                key.limits.rpm = t.previous_rpm;
                if let Err(e) = keys.update(&key).await {
                    tracing::error!(target: LOG_TARGET, key = %key.id, error = %e, "could not lift a throttle");
                    continue;
                }
            }
            let rpm_now = key.limits.rpm;
            self.audit(
                "anomaly.throttle_lifted",
                Some(key.tenant.as_str()),
                format!("key:{}", key.id),
                json!({ "rpm": rpm_now, "changed_meanwhile": !ours }),
            );
        }
    }
}
