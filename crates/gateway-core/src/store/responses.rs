//! Stored answers of the OpenAI Responses API (`POST /v1/responses` with `store`): what
//! `GET /v1/responses/{id}` returns, the input items of the request that made it, and the
//! conversation a later call continues with `previous_response_id`. Every stored response
//! belongs to one tenant and every lookup names the tenant, so that no tenant can read, list,
//! delete or continue another's: to them it does not exist.
//!
//! The store keeps the three parts as JSON text it does not interpret; the Responses dialect
//! of `gateway-app` writes and reads them.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::error::GatewayError;
use crate::principal::TenantId;

/// One stored response.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// `resp_...`, unique across tenants.
    pub id: String,
    pub tenant: TenantId,
    pub created_at: SystemTime,
    /// The response object, as `GET /v1/responses/{id}` answers it (JSON).
    pub response: String,
    /// The input items of the request, each with its id, in the order sent (a JSON array).
    pub input_items: String,
    /// The conversation through this response, as a later call continues it (a JSON array).
    pub conversation: String,
}

/// Stored Responses API answers, by tenant.
#[async_trait]
pub trait ResponseStore: Send + Sync {
    /// Stores `response`; fails with [`super::CONFLICT_CODE`] when its id exists.
    async fn put_response(&self, response: &StoredResponse) -> Result<(), GatewayError>;
    /// The tenant's response `id`; `None` when there is none (another tenant's included).
    async fn get_response(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<StoredResponse>, GatewayError>;
    /// Deletes the tenant's response `id`; whether there was one.
    async fn delete_response(&self, tenant: &TenantId, id: &str) -> Result<bool, GatewayError>;
    /// Deletes every response created before `cutoff` (retention); returns how many went.
    async fn delete_responses_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError>;
}
