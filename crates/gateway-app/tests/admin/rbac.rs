//! The RBAC table: every caller role x every admin endpoint, on its own tenant and another.

use super::*;

/// Columns of the RBAC table.
const CALLERS: [&str; 6] = [
    "token",
    "admin",
    "tenant_admin",
    "developer",
    "viewer",
    "auditor",
];

struct Row {
    endpoint: &'static str,
    /// Expected status per caller, on the caller's own tenant.
    own: [u16; 6],
    /// ... and on another tenant.
    other: [u16; 6],
}

const fn row(endpoint: &'static str, own: [u16; 6], other: [u16; 6]) -> Row {
    Row {
        endpoint,
        own,
        other,
    }
}

/// Method, path and body of one call of `endpoint` against `tenant`, with fresh targets for
/// the calls that consume them.
async fn request_for(
    gw: &TestGateway,
    endpoint: &str,
    tenant: &str,
    n: usize,
) -> (Method, String, String) {
    let fresh_tenant = format!("{tenant}-new-{n}");
    match endpoint {
        "list tenants" => (Method::GET, "/admin/v1/tenants".into(), String::new()),
        "show tenant" => (
            Method::GET,
            format!("/admin/v1/tenants/{tenant}"),
            String::new(),
        ),
        "create tenant" => (
            Method::POST,
            "/admin/v1/tenants".into(),
            json!({"id": fresh_tenant}).to_string(),
        ),
        "update tenant" => (
            Method::PATCH,
            format!("/admin/v1/tenants/{tenant}"),
            r#"{"name":"Renamed"}"#.into(),
        ),
        "delete tenant" => {
            ensure_tenant(gw, &fresh_tenant).await;
            (
                Method::DELETE,
                format!("/admin/v1/tenants/{fresh_tenant}"),
                String::new(),
            )
        }
        "list keys" => (
            Method::GET,
            format!("/admin/v1/keys?tenant={tenant}"),
            String::new(),
        ),
        "create key" => (
            Method::POST,
            "/admin/v1/keys".into(),
            json!({"tenant": tenant, "name": "made"}).to_string(),
        ),
        "show key" => (
            Method::GET,
            format!("/admin/v1/keys/{}", fresh_key_id(gw, tenant).await),
            String::new(),
        ),
        "update key" => (
            Method::PATCH,
            format!("/admin/v1/keys/{}", fresh_key_id(gw, tenant).await),
            r#"{"name":"renamed"}"#.into(),
        ),
        "rotate key" => (
            Method::POST,
            format!("/admin/v1/keys/{}/rotate", fresh_key_id(gw, tenant).await),
            String::new(),
        ),
        "revoke key" => (
            Method::POST,
            format!("/admin/v1/keys/{}/revoke", fresh_key_id(gw, tenant).await),
            String::new(),
        ),
        "resume key" => (
            Method::POST,
            format!("/admin/v1/keys/{}/resume", fresh_key_id(gw, tenant).await),
            String::new(),
        ),
        "anomalies" => (
            Method::GET,
            format!("/admin/v1/anomalies?tenant={tenant}"),
            String::new(),
        ),
        "usage" => (
            Method::GET,
            format!("/admin/v1/usage?tenant={tenant}&group_by=model"),
            String::new(),
        ),
        "audit" => (
            Method::GET,
            format!("/admin/v1/audit?tenant={tenant}"),
            String::new(),
        ),
        "verify audit" => (Method::GET, "/admin/v1/audit/verify".into(), String::new()),
        other => panic!("no endpoint {other}"),
    }
}

#[tokio::test]
async fn rbac_table_role_by_endpoint() {
    let gw = start().await;
    ensure_tenant(&gw, "other").await;
    let mut tokens = vec![ADMIN_TOKEN.to_owned()];
    for role in [
        GatewayRole::Admin,
        GatewayRole::TenantAdmin,
        GatewayRole::Developer,
        GatewayRole::Viewer,
        GatewayRole::Auditor,
    ] {
        tokens.push(key_with_role(&gw, "acme", role).await);
    }
    // Columns: token, admin, tenant_admin, developer, viewer, auditor.
    // Key ids of a tenant the caller may not see answer 404 like unknown ids (no probing).
    let table = [
        row(
            "list tenants",
            [200, 200, 200, 403, 403, 403],
            [200, 200, 200, 403, 403, 403],
        ),
        row(
            "show tenant",
            [200, 200, 200, 403, 403, 403],
            [200, 200, 403, 403, 403, 403],
        ),
        row(
            "create tenant",
            [201, 201, 403, 403, 403, 403],
            [201, 201, 403, 403, 403, 403],
        ),
        row(
            "update tenant",
            [200, 200, 403, 403, 403, 403],
            [200, 200, 403, 403, 403, 403],
        ),
        row(
            "delete tenant",
            [200, 200, 403, 403, 403, 403],
            [200, 200, 403, 403, 403, 403],
        ),
        row(
            "list keys",
            [200, 200, 200, 403, 403, 403],
            [200, 200, 403, 403, 403, 403],
        ),
        row(
            "create key",
            [201, 201, 201, 403, 403, 403],
            [201, 201, 403, 403, 403, 403],
        ),
        row(
            "show key",
            [200, 200, 200, 403, 403, 403],
            [200, 200, 404, 403, 403, 403],
        ),
        row(
            "update key",
            [200, 200, 200, 403, 403, 403],
            [200, 200, 404, 403, 403, 403],
        ),
        row(
            "rotate key",
            [201, 201, 201, 403, 403, 403],
            [201, 201, 404, 403, 403, 403],
        ),
        row(
            "revoke key",
            [200, 200, 200, 403, 403, 403],
            [200, 200, 404, 403, 403, 403],
        ),
        row(
            "resume key",
            [200, 200, 200, 403, 403, 403],
            [200, 200, 404, 403, 403, 403],
        ),
        row(
            "anomalies",
            [200, 200, 200, 403, 403, 403],
            [200, 200, 403, 403, 403, 403],
        ),
        row(
            "usage",
            [200, 200, 200, 403, 200, 403],
            [200, 200, 403, 403, 403, 403],
        ),
        row(
            "audit",
            [200, 200, 403, 403, 403, 200],
            [200, 200, 403, 403, 403, 403],
        ),
        row(
            "verify audit",
            [200, 200, 403, 403, 403, 403],
            [200, 200, 403, 403, 403, 403],
        ),
    ];
    let mut failures = Vec::new();
    let mut n = 0;
    for r in &table {
        for (tenant, expected) in [("acme", r.own), ("other", r.other)] {
            for (i, caller) in CALLERS.iter().enumerate() {
                n += 1;
                let (method, path, body) = request_for(&gw, r.endpoint, tenant, n).await;
                let reply = admin(&gw, &tokens[i], method.clone(), &path, &body).await;
                if reply.status.as_u16() != expected[i] {
                    failures.push(format!(
                        "{} on {tenant} as {caller}: {method} {path} -> {} (expected {}): {}",
                        r.endpoint,
                        reply.status,
                        expected[i],
                        String::from_utf8_lossy(&reply.body)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "RBAC table mismatches:\n{}",
        failures.join("\n")
    );
}
