//! Role-based access control: which role may do what, on which tenant.
//!
//! | role           | may                                            | where            |
//! |----------------|------------------------------------------------|------------------|
//! | `admin`        | everything                                     | every tenant     |
//! | `tenant_admin` | manage and read keys, read usage, read tenant  | its own tenant   |
//! | `developer`    | call models (every caller route: model calls,  | its own tenant   |
//! |                | token counts, guardrail checks, models, stored |                  |
//! |                | responses, files, batches)                     |                  |
//! | `viewer`       | read usage                                     | its own tenant   |
//! | `auditor`      | read audit                                     | its own tenant   |
//!
//! Gateway-wide operations (`target_tenant = None`, managing tenants or configuration) are
//! for `admin` only.

use gateway_core::{DeniedBy, GatewayError, GatewayRole, Principal, TenantId};

/// Something a principal may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Every route of the caller API, in every dialect: model calls, token counts, guardrail
    /// checks, the model lists, stored responses, files and batches (see `docs/admin.md`).
    CallModels,
    /// Read a tenant's settings.
    ReadTenants,
    /// Create, change and delete tenants.
    ManageTenants,
    /// List and read key records (never secrets).
    ReadKeys,
    /// Issue, change, disable and revoke keys.
    ManageKeys,
    ReadUsage,
    ReadAudit,
    /// Reload or change the gateway configuration.
    ManageConfig,
}

impl Permission {
    pub const ALL: [Permission; 8] = [
        Permission::CallModels,
        Permission::ReadTenants,
        Permission::ManageTenants,
        Permission::ReadKeys,
        Permission::ManageKeys,
        Permission::ReadUsage,
        Permission::ReadAudit,
        Permission::ManageConfig,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::CallModels => "call_models",
            Permission::ReadTenants => "read_tenants",
            Permission::ManageTenants => "manage_tenants",
            Permission::ReadKeys => "read_keys",
            Permission::ManageKeys => "manage_keys",
            Permission::ReadUsage => "read_usage",
            Permission::ReadAudit => "read_audit",
            Permission::ManageConfig => "manage_config",
        }
    }

    /// Whether this is never scoped to one tenant.
    pub fn is_gateway_wide(self) -> bool {
        matches!(self, Permission::ManageTenants | Permission::ManageConfig)
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `role` grants `permission` within its own tenant (admin: anywhere).
pub fn role_grants(role: GatewayRole, permission: Permission) -> bool {
    use Permission as P;
    match role {
        GatewayRole::Admin => true,
        GatewayRole::TenantAdmin => matches!(
            permission,
            P::ManageKeys | P::ReadKeys | P::ReadUsage | P::ReadTenants
        ),
        GatewayRole::Developer => permission == P::CallModels,
        GatewayRole::Viewer => permission == P::ReadUsage,
        GatewayRole::Auditor => permission == P::ReadAudit,
    }
}

/// Allows `principal` to exercise `permission` on `target_tenant` (`None`: gateway-wide or
/// across all tenants), or answers 403. The message never says whether another tenant exists.
pub fn authorize(
    principal: &Principal,
    permission: Permission,
    target_tenant: Option<&TenantId>,
) -> Result<(), GatewayError> {
    if principal.has_role(GatewayRole::Admin) {
        return Ok(());
    }
    let own_tenant = target_tenant.is_some_and(|t| *t == principal.tenant);
    let granted = own_tenant
        && !permission.is_gateway_wide()
        && principal.roles.iter().any(|r| role_grants(*r, permission));
    if granted {
        Ok(())
    } else {
        Err(GatewayError::forbidden(
            DeniedBy::Permission,
            format!(
                "Your credentials do not grant the '{permission}' permission {}.",
                if target_tenant.is_some() {
                    "on this tenant"
                } else {
                    "across tenants"
                }
            ),
        ))
    }
}
