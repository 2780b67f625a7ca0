//! `POST /admin/v1/backups` (take a backup now into the configured directory),
//! `GET /admin/v1/backups` (the archives there, newest first, with their manifests) and
//! `GET /admin/v1/backups/{id}`. A backup holds every tenant's data: admins only
//! (`manage_config`). Restores are offline (`gatewayctl backup restore`), never through the
//! API of a gateway that is serving the store (see `docs/operations.md`).

use http::Response;
use schemars::JsonSchema;
use serde::Serialize;

use gateway_auth::{Permission, authorize};
use gateway_core::GatewayError;

use super::{Admin, Mutation, ok};
use crate::backups::{BackupEntry, Backups};
use crate::http::body::Body;

/// The answer of `GET /admin/v1/backups`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BackupList {
    pub object: &'static str,
    pub data: Vec<BackupEntry>,
}

fn configured<'a>(ctx: &'a Admin<'_>) -> Result<&'a Backups, GatewayError> {
    ctx.state.backups.as_ref().ok_or_else(|| {
        GatewayError::invalid(
            "Backups are not configured: set [backup] key (see docs/operations.md).",
        )
    })
}

/// `POST /admin/v1/backups`.
pub async fn create(ctx: &Admin<'_>) -> Result<Response<Body>, GatewayError> {
    ctx.audited(Mutation::new("backup.create"), async |m| {
        authorize(&ctx.principal, Permission::ManageConfig, None)?;
        let backups = configured(ctx)?;
        let entry = backups
            .create()
            .await
            .map_err(crate::backups::BackupFailure::into_gateway)?;
        m.target = Some(entry.id.clone());
        m.details
            .insert("size_bytes".to_owned(), entry.size_bytes.into());
        ok(201, &entry)
    })
    .await
}

/// `GET /admin/v1/backups`.
pub async fn list(ctx: &Admin<'_>) -> Result<Response<Body>, GatewayError> {
    authorize(&ctx.principal, Permission::ManageConfig, None)?;
    let data = configured(ctx)?
        .list()
        .await
        .map_err(crate::backups::BackupFailure::into_gateway)?;
    ok(
        200,
        &BackupList {
            object: "list",
            data,
        },
    )
}

/// `GET /admin/v1/backups/{id}`.
pub async fn show(ctx: &Admin<'_>, id: &str) -> Result<Response<Body>, GatewayError> {
    authorize(&ctx.principal, Permission::ManageConfig, None)?;
    match configured(ctx)?
        .get(id)
        .await
        .map_err(crate::backups::BackupFailure::into_gateway)?
    {
        Some(entry) => ok(200, &entry),
        None => Err(GatewayError::NotFound(format!("Backup '{id}' not found."))),
    }
}
