//! An in-memory [`WebhookStore`] for the paused-time test: SQLite answers from a thread of its
//! own, and paused time would jump ahead while waiting for it. It keeps the semantics the
//! store suite checks on both SQL backends (leases, attempts, redelivery).

use std::sync::Mutex;
use std::time::SystemTime;

use async_trait::async_trait;
use gateway_core::store::{
    AttemptOutcome, DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookStore,
};
use gateway_core::{GatewayError, TenantId};

#[derive(Default)]
pub struct MemoryStore {
    endpoints: Mutex<Vec<WebhookEndpoint>>,
    deliveries: Mutex<Vec<(WebhookDelivery, Option<SystemTime>)>>,
    attempts: Mutex<Vec<DeliveryAttempt>>,
}

fn unused() -> GatewayError {
    GatewayError::Internal("not used by this test".into())
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn create_endpoint(&self, e: &WebhookEndpoint) -> Result<(), GatewayError> {
        self.endpoints.lock().unwrap().push(e.clone());
        Ok(())
    }
    async fn get_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, GatewayError> {
        Ok(self
            .endpoints
            .lock()
            .unwrap()
            .iter()
            .find(|e| e.id == id)
            .cloned())
    }
    async fn list_endpoints(
        &self,
        _: Option<&TenantId>,
    ) -> Result<Vec<WebhookEndpoint>, GatewayError> {
        Err(unused())
    }
    async fn update_endpoint(&self, _: &WebhookEndpoint) -> Result<(), GatewayError> {
        Err(unused())
    }
    async fn delete_endpoint(&self, _: &str) -> Result<bool, GatewayError> {
        Err(unused())
    }
    async fn enqueue_deliveries(&self, list: &[WebhookDelivery]) -> Result<u64, GatewayError> {
        let mut all = self.deliveries.lock().unwrap();
        all.extend(list.iter().map(|d| (d.clone(), None)));
        Ok(list.len() as u64)
    }
    async fn claim_deliveries(
        &self,
        now: SystemTime,
        lease_until: SystemTime,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, GatewayError> {
        let mut out = Vec::new();
        for (d, lease) in self.deliveries.lock().unwrap().iter_mut() {
            let free = lease.is_none_or(|l| l < now);
            if d.status == DeliveryStatus::Pending && d.next_attempt_at <= now && free {
                *lease = Some(lease_until);
                out.push(d.clone());
            }
        }
        out.truncate(limit as usize);
        Ok(out)
    }
    async fn next_delivery_due(&self) -> Result<Option<SystemTime>, GatewayError> {
        let all = self.deliveries.lock().unwrap();
        Ok(all
            .iter()
            .filter(|(d, _)| d.status == DeliveryStatus::Pending)
            .map(|(d, lease)| lease.map_or(d.next_attempt_at, |l| l.max(d.next_attempt_at)))
            .min())
    }
    async fn record_attempt(
        &self,
        a: &DeliveryAttempt,
        outcome: &AttemptOutcome,
    ) -> Result<(), GatewayError> {
        self.attempts.lock().unwrap().push(a.clone());
        let mut all = self.deliveries.lock().unwrap();
        let (d, lease) = all.iter_mut().find(|(d, _)| d.id == a.delivery_id).unwrap();
        *lease = None;
        d.attempts = a.attempt;
        d.last_status_code = a.status_code;
        d.last_error = a.error.clone();
        match outcome {
            AttemptOutcome::Succeeded => d.status = DeliveryStatus::Succeeded,
            AttemptOutcome::Dead => d.status = DeliveryStatus::Dead,
            AttemptOutcome::Retry(at) => d.next_attempt_at = *at,
        }
        Ok(())
    }
    async fn get_delivery(&self, id: &str) -> Result<Option<WebhookDelivery>, GatewayError> {
        let all = self.deliveries.lock().unwrap();
        Ok(all.iter().find(|(d, _)| d.id == id).map(|(d, _)| d.clone()))
    }
    async fn list_deliveries(
        &self,
        _: &str,
        _: Option<&str>,
        _: u32,
    ) -> Result<Vec<WebhookDelivery>, GatewayError> {
        Err(unused())
    }
    async fn list_attempts(&self, id: &str) -> Result<Vec<DeliveryAttempt>, GatewayError> {
        let all = self.attempts.lock().unwrap();
        Ok(all
            .iter()
            .filter(|a| a.delivery_id == id)
            .cloned()
            .collect())
    }
    async fn redeliver(
        &self,
        id: &str,
        now: SystemTime,
        expires_at: SystemTime,
    ) -> Result<WebhookDelivery, GatewayError> {
        let mut all = self.deliveries.lock().unwrap();
        let (d, lease) = all.iter_mut().find(|(d, _)| d.id == id).unwrap();
        *lease = None;
        d.status = DeliveryStatus::Pending;
        d.next_attempt_at = now;
        d.expires_at = expires_at;
        Ok(d.clone())
    }
    async fn delete_deliveries_before(&self, _: SystemTime) -> Result<u64, GatewayError> {
        Err(unused())
    }
}
