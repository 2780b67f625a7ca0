//! Webhook endpoints and their durable outbox of deliveries. An endpoint belongs to one
//! tenant and subscribes to a set of event types; every event fanned out to an endpoint is a
//! [`WebhookDelivery`] row that dispatchers on any instance claim with a lease, attempt, and
//! then either finish (`succeeded`), reschedule (`pending` with a later `next_attempt_at`) or
//! give up on (`dead`). Each attempt is logged as a [`DeliveryAttempt`].
//!
//! The store keeps endpoint secrets as given (they sign, so they cannot be hashed) and
//! payloads as JSON text it does not interpret; `gateway-app` signs and sends them.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::error::GatewayError;
use crate::principal::TenantId;

/// One webhook endpoint of a tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    /// `ep_` and a time-ordered UUID.
    pub id: String,
    pub tenant: TenantId,
    pub url: String,
    pub description: String,
    /// Event types delivered to it (`batch.completed`, `key.created`, ...).
    pub events: Vec<String>,
    /// `whsec_<base64>`: the signing secret.
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<SystemTime>,
    pub enabled: bool,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or leased by a dispatcher attempting it now).
    Pending,
    /// A 2xx answer was received.
    Succeeded,
    /// Given up after the retry window: the dead-letter state (redeliverable by hand).
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "succeeded" => Some(DeliveryStatus::Succeeded),
            "dead" => Some(DeliveryStatus::Dead),
            _ => None,
        }
    }
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// `msg_...`: the `webhook-id` header, stable across retries (receivers dedupe on it).
    pub id: String,
    pub endpoint_id: String,
    pub tenant: TenantId,
    pub event_type: String,
    /// The JSON body sent, byte for byte the one that is signed.
    pub payload: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    pub next_attempt_at: SystemTime,
    /// Retries stop (the delivery goes dead) once an attempt fails after this time.
    pub expires_at: SystemTime,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

/// One attempt of a delivery, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttempt {
    pub delivery_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub at: SystemTime,
    /// The receiver's status, when it answered.
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// Why it failed, in the gateway's words (never the receiver's body).
    pub error: Option<String>,
    pub succeeded: bool,
}

/// What an attempt did to its delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    Succeeded,
    /// Try again at this time.
    Retry(SystemTime),
    /// Give up: dead letter.
    Dead,
}

/// Webhook endpoints and deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), GatewayError>;
    /// Any tenant's endpoint by id; the caller checks the tenant.
    async fn get_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, GatewayError>;
    /// Endpoints of one tenant, or of every tenant, oldest first.
    async fn list_endpoints(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<WebhookEndpoint>, GatewayError>;
    /// Replaces url, description, events, secrets and enabled.
    async fn update_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), GatewayError>;
    /// Deletes the endpoint and its deliveries; whether there was one.
    async fn delete_endpoint(&self, id: &str) -> Result<bool, GatewayError>;

    /// Queues deliveries; one whose id exists already is skipped (events with a stable id
    /// are thus fanned out once, whichever instance emits them). Returns how many were new.
    async fn enqueue_deliveries(&self, deliveries: &[WebhookDelivery])
    -> Result<u64, GatewayError>;
    /// Leases up to `limit` pending deliveries due at `now` (and not leased by a live
    /// dispatcher) until `lease_until`. Safe from several instances at once.
    async fn claim_deliveries(
        &self,
        now: SystemTime,
        lease_until: SystemTime,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, GatewayError>;
    /// When the earliest pending delivery is due (or its lease runs out, if later): the
    /// dispatcher sleeps until then.
    async fn next_delivery_due(&self) -> Result<Option<SystemTime>, GatewayError>;
    /// Logs the attempt and moves its delivery on; releases the lease.
    async fn record_attempt(
        &self,
        attempt: &DeliveryAttempt,
        outcome: &AttemptOutcome,
    ) -> Result<(), GatewayError>;
    async fn get_delivery(&self, id: &str) -> Result<Option<WebhookDelivery>, GatewayError>;
    /// An endpoint's deliveries, newest first, before the delivery id `before` if given.
    async fn list_deliveries(
        &self,
        endpoint_id: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, GatewayError>;
    /// A delivery's attempts, first first.
    async fn list_attempts(&self, delivery_id: &str) -> Result<Vec<DeliveryAttempt>, GatewayError>;
    /// Makes the delivery pending again, due at `now`, with a new retry window ending at
    /// `expires_at`; `NotFound` when there is none.
    async fn redeliver(
        &self,
        id: &str,
        now: SystemTime,
        expires_at: SystemTime,
    ) -> Result<WebhookDelivery, GatewayError>;
    /// Deletes finished deliveries (and their attempts) last changed before `cutoff`.
    async fn delete_deliveries_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError>;
}
