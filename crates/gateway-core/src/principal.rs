//! Who is calling: the verified identity every request carries through the pipeline.

use std::sync::Arc;

use crate::client_networks::ClientNetworks;
use crate::store::Limits;

/// A tenant: the unit that isolates keys, usage, limits, cache and audit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub Arc<str>);

impl TenantId {
    pub fn new(id: &str) -> Self {
        TenantId(Arc::from(id))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Roles for role-based access control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GatewayRole {
    /// Everything, across tenants.
    Admin,
    /// Its own tenant's keys and usage.
    TenantAdmin,
    /// Calls models.
    Developer,
    /// Reads usage.
    Viewer,
    /// Reads the audit log.
    Auditor,
}

impl GatewayRole {
    pub const ALL: [GatewayRole; 5] = [
        GatewayRole::Admin,
        GatewayRole::TenantAdmin,
        GatewayRole::Developer,
        GatewayRole::Viewer,
        GatewayRole::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GatewayRole::Admin => "admin",
            GatewayRole::TenantAdmin => "tenant_admin",
            GatewayRole::Developer => "developer",
            GatewayRole::Viewer => "viewer",
            GatewayRole::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        GatewayRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ApiKey,
    Jwt,
    /// No authenticator is configured (an open gateway, e.g. local development).
    None,
}

/// The verified caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub tenant: TenantId,
    /// Key id or JWT subject: stable, safe to log, never the secret itself.
    pub subject: Arc<str>,
    pub roles: Arc<[GatewayRole]>,
    /// Public model names this caller may use; `None` means all.
    pub allowed_models: Option<Arc<[String]>>,
    /// Regions this caller's traffic may be served from; `None` means any.
    pub allowed_regions: Option<Arc<[String]>>,
    pub method: AuthMethod,
    /// Limits and budgets set on the caller's key (admission enforces them).
    pub key_limits: Option<Arc<Limits>>,
    /// Limits and budgets set on the caller's tenant.
    pub tenant_limits: Option<Arc<Limits>>,
    /// The client networks the caller's key and tenant may call from; `None`: any.
    pub client_networks: Option<Arc<ClientNetworks>>,
    /// The caller's tenant opted out of threat-intelligence feeds.
    pub threat_intel_opt_out: bool,
}

impl Principal {
    /// The principal of a gateway with no authentication configured.
    pub fn anonymous() -> Self {
        Principal {
            tenant: TenantId::new("default"),
            subject: Arc::from("anonymous"),
            roles: Arc::from([GatewayRole::Developer]),
            allowed_models: None,
            allowed_regions: None,
            method: AuthMethod::None,
            key_limits: None,
            tenant_limits: None,
            client_networks: None,
            threat_intel_opt_out: false,
        }
    }

    pub fn has_role(&self, role: GatewayRole) -> bool {
        self.roles.contains(&role)
    }

    /// Whether this caller may use the public model `model`.
    pub fn may_use_model(&self, model: &str) -> bool {
        match &self.allowed_models {
            None => true,
            Some(list) => list.iter().any(|m| m == model || m == "*"),
        }
    }
}
