//! Who may call the admin API, and on which tenants.
//!
//! A caller is either the bootstrap admin (the `[admin] token`, compared in constant time) or
//! any principal the pipeline's authenticator accepts (API keys, JWTs), whose roles then
//! decide through [`gateway_auth::rbac::authorize`]. A missing or refused credential is 401
//! with the same message whatever the reason; a credential without the permission is 403.

use std::sync::Arc;

use http::HeaderMap;
use subtle::{Choice, ConstantTimeEq};

use gateway_auth::error::{INVALID_MESSAGE, MISSING_MESSAGE};
use gateway_auth::{Permission, authorize};
use gateway_core::{
    AuthFailure, AuthMethod, DeniedBy, GatewayError, GatewayRole, Principal, TenantId,
};

use crate::http::extract_token;
use crate::state::AppState;

/// The subject of the bootstrap admin, as recorded in the audit log.
pub const BOOTSTRAP_SUBJECT: &str = "admin-token";

/// The caller of an admin request, or 401.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Principal, GatewayError> {
    let Some(token) = extract_token(headers) else {
        return Err(GatewayError::unauthenticated(
            AuthFailure::Missing,
            MISSING_MESSAGE,
        ));
    };
    if let Some(admin) = &state.admin_token
        && token_matches(admin.expose().as_bytes(), token.as_bytes())
    {
        return Ok(bootstrap_admin());
    }
    let principal = state.gateway.authenticate(Some(token)).await?;
    if principal.method == AuthMethod::None {
        // A gateway without authentication never opens its admin API to anonymous callers.
        return Err(GatewayError::unauthenticated(
            AuthFailure::Invalid,
            INVALID_MESSAGE,
        ));
    }
    Ok(principal)
}

/// The principal of the `[admin] token`: role admin, on no tenant (`*` is not a tenant id).
/// Threat-intelligence feeds never refuse it (`threat_intel_opt_out`): a bad feed (one that
/// lists the operator's own network, or everything) must not lock the operator out of the
/// API that fixes it.
fn bootstrap_admin() -> Principal {
    Principal {
        tenant: TenantId::new("*"),
        subject: Arc::from(BOOTSTRAP_SUBJECT),
        roles: Arc::from([GatewayRole::Admin]),
        allowed_models: None,
        allowed_regions: None,
        method: AuthMethod::ApiKey,
        key_limits: None,
        tenant_limits: None,
        client_networks: None,
        threat_intel_opt_out: true,
    }
}

/// Constant time in the length of `expected`: the supplied token's length and content are
/// never branched on.
fn token_matches(expected: &[u8], supplied: &[u8]) -> bool {
    let mut equal = expected.len().ct_eq(&supplied.len());
    for (i, byte) in expected.iter().enumerate() {
        let other = supplied.get(i).copied().unwrap_or(0);
        equal &= byte.ct_eq(&other);
    }
    bool::from(equal & Choice::from(u8::from(!expected.is_empty())))
}

pub fn is_admin(principal: &Principal) -> bool {
    principal.has_role(GatewayRole::Admin)
}

/// The tenant a read or list covers. An explicit `requested` tenant is checked as is;
/// without one, an admin covers every tenant (`None`) and anyone else their own tenant.
pub fn scope(
    principal: &Principal,
    permission: Permission,
    requested: Option<&str>,
) -> Result<Option<TenantId>, GatewayError> {
    match requested {
        Some(t) => {
            let tenant = TenantId::new(t);
            authorize(principal, permission, Some(&tenant))?;
            Ok(Some(tenant))
        }
        None if is_admin(principal) => Ok(None),
        None => {
            authorize(principal, permission, Some(&principal.tenant))?;
            Ok(Some(principal.tenant.clone()))
        }
    }
}

/// 403 unless the caller holds `permission` at least on its own tenant (admins: anywhere).
/// Used before looking a record up by id, so a caller without the permission learns nothing.
pub fn require_somewhere(
    principal: &Principal,
    permission: Permission,
) -> Result<(), GatewayError> {
    if is_admin(principal) {
        return Ok(());
    }
    authorize(principal, permission, Some(&principal.tenant))
}

/// Roles a caller may hand out or touch: only an admin may issue, grant or change keys
/// with the `admin` role.
pub fn may_grant(principal: &Principal, roles: &[GatewayRole]) -> Result<(), GatewayError> {
    if roles.contains(&GatewayRole::Admin) && !is_admin(principal) {
        return Err(GatewayError::forbidden(
            DeniedBy::Permission,
            "Only an admin may issue, grant or change keys with the 'admin' role.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(token_matches(b"secret-token-123", b"secret-token-123"));
        assert!(!token_matches(b"secret-token-123", b"secret-token-124"));
        assert!(!token_matches(b"secret-token-123", b"secret-token-1234"));
        assert!(!token_matches(b"secret-token-123", b"secret-token-12"));
        assert!(!token_matches(b"secret-token-123", b""));
        assert!(!token_matches(b"", b""));
    }

    #[test]
    fn scopes() {
        let mut p = bootstrap_admin();
        assert_eq!(scope(&p, Permission::ReadKeys, None).unwrap(), None);
        p.tenant = TenantId::new("acme");
        p.roles = Arc::from([GatewayRole::TenantAdmin]);
        assert_eq!(
            scope(&p, Permission::ReadKeys, None).unwrap(),
            Some(TenantId::new("acme"))
        );
        assert!(scope(&p, Permission::ReadKeys, Some("other")).is_err());
        assert!(scope(&p, Permission::ReadAudit, None).is_err());
        assert!(may_grant(&p, &[GatewayRole::Developer]).is_ok());
        assert!(may_grant(&p, &[GatewayRole::Admin]).is_err());
    }
}
