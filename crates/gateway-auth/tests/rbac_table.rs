//! RBAC: every role x permission x (own tenant, other tenant, gateway-wide), against a table
//! written out here rather than derived from the implementation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gateway_auth::rbac::{Permission, authorize};
use gateway_core::{AuthMethod, GatewayRole, Principal, TenantId};

fn principal(role: GatewayRole) -> Principal {
    Principal {
        tenant: TenantId::new("acme"),
        subject: Arc::from("key_1"),
        roles: Arc::from([role]),
        allowed_models: None,
        allowed_regions: None,
        method: AuthMethod::ApiKey,
        key_limits: None,
        tenant_limits: None,
        client_networks: None,
        threat_intel_opt_out: false,
    }
}

/// (role, permission, own tenant, other tenant, gateway-wide)
#[rustfmt::skip]
const TABLE: &[(GatewayRole, Permission, bool, bool, bool)] = {
    use GatewayRole::*;
    use Permission::*;
    &[
        (Admin, CallModels, true, true, true),
        (Admin, ReadTenants, true, true, true),
        (Admin, ManageTenants, true, true, true),
        (Admin, ReadKeys, true, true, true),
        (Admin, ManageKeys, true, true, true),
        (Admin, ReadUsage, true, true, true),
        (Admin, ReadAudit, true, true, true),
        (Admin, ManageConfig, true, true, true),

        (TenantAdmin, CallModels, false, false, false),
        (TenantAdmin, ReadTenants, true, false, false),
        (TenantAdmin, ManageTenants, false, false, false),
        (TenantAdmin, ReadKeys, true, false, false),
        (TenantAdmin, ManageKeys, true, false, false),
        (TenantAdmin, ReadUsage, true, false, false),
        (TenantAdmin, ReadAudit, false, false, false),
        (TenantAdmin, ManageConfig, false, false, false),

        (Developer, CallModels, true, false, false),
        (Developer, ReadTenants, false, false, false),
        (Developer, ManageTenants, false, false, false),
        (Developer, ReadKeys, false, false, false),
        (Developer, ManageKeys, false, false, false),
        (Developer, ReadUsage, false, false, false),
        (Developer, ReadAudit, false, false, false),
        (Developer, ManageConfig, false, false, false),

        (Viewer, CallModels, false, false, false),
        (Viewer, ReadTenants, false, false, false),
        (Viewer, ManageTenants, false, false, false),
        (Viewer, ReadKeys, false, false, false),
        (Viewer, ManageKeys, false, false, false),
        (Viewer, ReadUsage, true, false, false),
        (Viewer, ReadAudit, false, false, false),
        (Viewer, ManageConfig, false, false, false),

        (Auditor, CallModels, false, false, false),
        (Auditor, ReadTenants, false, false, false),
        (Auditor, ManageTenants, false, false, false),
        (Auditor, ReadKeys, false, false, false),
        (Auditor, ManageKeys, false, false, false),
        (Auditor, ReadUsage, false, false, false),
        (Auditor, ReadAudit, true, false, false),
        (Auditor, ManageConfig, false, false, false),
    ]
};

#[test]
fn table_covers_every_role_and_permission() {
    assert_eq!(TABLE.len(), GatewayRole::ALL.len() * Permission::ALL.len());
    for role in GatewayRole::ALL {
        for perm in Permission::ALL {
            assert!(
                TABLE.iter().any(|(r, p, ..)| *r == role && *p == perm),
                "{role:?} {perm:?} missing"
            );
        }
    }
}

#[test]
fn role_permission_tenant_table() {
    let own = TenantId::new("acme");
    let other = TenantId::new("globex");
    for &(role, perm, on_own, on_other, wide) in TABLE {
        let p = principal(role);
        for (target, expected, label) in [
            (Some(&own), on_own, "own"),
            (Some(&other), on_other, "other"),
            (None, wide, "gateway-wide"),
        ] {
            let result = authorize(&p, perm, target);
            assert_eq!(
                result.is_ok(),
                expected,
                "{role:?} {perm:?} on {label} tenant: {result:?}"
            );
            if let Err(e) = result {
                assert_eq!(e.status(), 403);
                assert!(
                    !e.to_string().contains("globex"),
                    "the message must not name the tenant: {e}"
                );
            }
        }
    }
}

#[test]
fn roles_combine() {
    let mut p = principal(GatewayRole::Developer);
    p.roles = Arc::from([GatewayRole::Developer, GatewayRole::Viewer]);
    let own = TenantId::new("acme");
    assert!(authorize(&p, Permission::CallModels, Some(&own)).is_ok());
    assert!(authorize(&p, Permission::ReadUsage, Some(&own)).is_ok());
    assert!(authorize(&p, Permission::ReadAudit, Some(&own)).is_err());
    p.roles = Arc::from([]);
    assert!(authorize(&p, Permission::CallModels, Some(&own)).is_err());
}
