//! The admin API: the RBAC table (role x endpoint x own/other tenant), the key lifecycle
//! seen from `/v1/chat/completions`, authentication failures, validation, audit and usage.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gateway_auth::NewApiKey;
use gateway_core::store::Tenant;
use gateway_core::{GatewayRole, TenantId};
use http::Method;
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";

async fn start() -> TestGateway {
    TestGateway::start_with_sections("", &format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n")).await
}

/// A key of `tenant` with `role` (the tenant must exist).
async fn key_with_role(gw: &TestGateway, tenant: &str, role: GatewayRole) -> String {
    let mut new = NewApiKey::new(TenantId::new(tenant), format!("{} key", role.as_str()));
    new.roles = vec![role];
    let manager = gw.state.auth.key_manager.as_ref().unwrap();
    manager.create(new).await.unwrap().secret.expose().clone()
}

async fn ensure_tenant(gw: &TestGateway, id: &str) {
    let id = TenantId::new(id);
    if gw.state.store.get_tenant(&id).await.unwrap().is_none() {
        gw.state
            .store
            .create_tenant(&Tenant::new(id.clone(), id.as_str()))
            .await
            .unwrap();
    }
}

/// A fresh developer key of `tenant`; returns its id.
async fn fresh_key_id(gw: &TestGateway, tenant: &str) -> String {
    let manager = gw.state.auth.key_manager.as_ref().unwrap();
    let created = manager
        .create(NewApiKey::new(TenantId::new(tenant), "target"))
        .await
        .unwrap();
    created.record.id
}

async fn admin(gw: &TestGateway, token: &str, method: Method, path: &str, body: &str) -> Reply {
    let auth = format!("Bearer {token}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    send(method, &gw.url(path), body.to_owned(), &headers).await
}

async fn chat_status(gw: &TestGateway, secret: &str) -> u16 {
    let auth = format!("Bearer {secret}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        chat_body("gpt-test", false),
        &headers,
    )
    .await
    .status
    .as_u16()
}

#[path = "admin/lifecycle.rs"]
mod lifecycle;
#[path = "admin/rbac.rs"]
mod rbac;
#[path = "admin/reports.rs"]
mod reports;
