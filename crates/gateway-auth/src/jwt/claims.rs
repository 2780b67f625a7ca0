//! From verified claims to the parts of a principal, by the issuer's configured claim names.

use gateway_core::{GatewayRole, TenantId};
use serde_json::{Map, Value};

use crate::config::JwtIssuerConfig;
use crate::error::AuthError;

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TokenIdentity {
    pub subject: String,
    pub tenant: TenantId,
    pub roles: Vec<GatewayRole>,
    pub models: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
}

/// A claim by its exact name, else by a dotted path into nested objects.
fn lookup<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let first = claims.get(parts.next()?)?;
    parts.try_fold(first, |v, p| v.get(p))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An array of strings, or one string of space- or comma-separated items.
fn list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str())
                .map(str::to_owned)
                .collect(),
        ),
        Value::String(s) => Some(
            s.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

pub(crate) fn identity(
    cfg: &JwtIssuerConfig,
    claims: &Map<String, Value>,
) -> Result<TokenIdentity, AuthError> {
    let subject = lookup(claims, &cfg.subject_claim)
        .and_then(scalar)
        .ok_or_else(|| AuthError::MissingClaim(cfg.subject_claim.clone()))?;
    let tenant = lookup(claims, &cfg.tenant_claim)
        .and_then(scalar)
        .or_else(|| cfg.default_tenant.clone())
        .ok_or_else(|| AuthError::MissingClaim(cfg.tenant_claim.clone()))?;
    let role_names = match lookup(claims, &cfg.roles_claim) {
        Some(v) => list(v).unwrap_or_default(),
        None => cfg.default_roles.clone(),
    };
    // Unknown role names are ignored, never widened.
    let mut roles: Vec<GatewayRole> = role_names
        .iter()
        .filter_map(|r| GatewayRole::parse(r))
        .collect();
    roles.sort_unstable();
    roles.dedup();
    Ok(TokenIdentity {
        subject,
        tenant: TenantId::new(&tenant),
        roles,
        models: lookup(claims, &cfg.models_claim).and_then(list),
        regions: lookup(claims, &cfg.regions_claim).and_then(list),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cfg() -> JwtIssuerConfig {
        toml::from_str(
            r#"
            issuer = "https://idp"
            audiences = ["gw"]
            algorithms = ["RS256"]
            jwks_url = "https://idp/jwks"
            tenant_claim = "org.id"
            roles_claim = "https://gw.example/roles"
            "#,
        )
        .unwrap()
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn maps_nested_and_url_named_claims() {
        let c = claims(json!({
            "sub": "user-1",
            "org": {"id": "acme"},
            "https://gw.example/roles": "developer viewer superuser",
            "models": ["gpt-4o", 7],
            "regions": "eu,us"
        }));
        let id = identity(&cfg(), &c).unwrap();
        assert_eq!(id.subject, "user-1");
        assert_eq!(id.tenant, TenantId::new("acme"));
        assert_eq!(id.roles, [GatewayRole::Developer, GatewayRole::Viewer]);
        assert_eq!(id.models, Some(vec!["gpt-4o".to_owned()]));
        assert_eq!(id.regions, Some(vec!["eu".to_owned(), "us".to_owned()]));
    }

    #[test]
    fn defaults_and_missing_claims() {
        let c = claims(json!({"sub": 42, "org": {"id": "acme"}}));
        let id = identity(&cfg(), &c).unwrap();
        assert_eq!(
            (id.subject.as_str(), id.roles.as_slice()),
            ("42", &[GatewayRole::Developer][..])
        );
        assert_eq!((id.models, id.regions), (None, None));

        let no_tenant = claims(json!({"sub": "u"}));
        assert!(
            matches!(identity(&cfg(), &no_tenant), Err(AuthError::MissingClaim(c)) if c == "org.id")
        );
        let mut with_default = cfg();
        with_default.default_tenant = Some("fallback".into());
        assert_eq!(
            identity(&with_default, &no_tenant).unwrap().tenant,
            TenantId::new("fallback")
        );
        assert!(matches!(
            identity(&cfg(), &claims(json!({"org": {"id": "a"}}))),
            Err(AuthError::MissingClaim(_))
        ));
    }
}
