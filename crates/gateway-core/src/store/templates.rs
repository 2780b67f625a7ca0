//! Versioned prompt templates, per tenant. A template (`id`, unique within its tenant) has
//! versions 1, 2, 3, ...; a version never changes once stored, and a new body is a new
//! version. Every lookup names the tenant, so another tenant's template does not exist for
//! a caller. The store keeps the definition as JSON text it does not interpret (rendering
//! and checking are `gateway-policy`'s); the SQL store seals it with the tenant's data key.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::error::GatewayError;
use crate::principal::TenantId;

/// One stored version of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRecord {
    /// The row's key (`tpl_...`), unique across tenants: the record id content is sealed for.
    pub key: String,
    pub tenant: TenantId,
    /// The template's name within its tenant.
    pub id: String,
    /// 1 for the first version; ignored by [`TemplateStore::add_template_version`].
    pub version: u32,
    pub description: String,
    /// The definition (messages or prompt, variables), JSON.
    pub body: String,
    pub created_at: SystemTime,
    /// The subject of the principal that created the version.
    pub created_by: String,
}

/// Prompt templates, by tenant.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Stores `record` as the next version of its template (1 for a new one) and returns the
    /// version it got. Two writers at once get two different versions.
    async fn add_template_version(&self, record: &TemplateRecord) -> Result<u32, GatewayError>;
    /// Version `version` of the tenant's template `id`, or its latest with `None`.
    async fn get_template(
        &self,
        tenant: &TenantId,
        id: &str,
        version: Option<u32>,
    ) -> Result<Option<TemplateRecord>, GatewayError>;
    /// Every version of the tenant's template `id`, oldest first (empty when there is none).
    async fn template_versions(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Vec<TemplateRecord>, GatewayError>;
    /// The latest version of each template of `tenant` (every tenant with `None`), by
    /// tenant then id; at most `limit`.
    async fn list_templates(
        &self,
        tenant: Option<&TenantId>,
        limit: u32,
    ) -> Result<Vec<TemplateRecord>, GatewayError>;
    /// Deletes every version of the tenant's template `id`; how many versions went.
    async fn delete_template(&self, tenant: &TenantId, id: &str) -> Result<u64, GatewayError>;
}
