//! Files of the OpenAI-compatible Files API, as their metadata is stored: the bytes live in
//! a blob storage that `gateway-app` owns; the store keeps who owns which file, its name,
//! purpose and size. Every lookup is scoped to a tenant: another tenant's file is not there.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::error::GatewayError;
use crate::principal::TenantId;

/// One stored file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    /// `file-` and a time-ordered UUID: ids sort by creation.
    pub id: String,
    pub tenant: TenantId,
    /// The name the uploader gave (display only; never a path).
    pub filename: String,
    /// `batch` (uploaded), `batch_output` (written by the batch worker).
    pub purpose: String,
    pub bytes: u64,
    pub created_at: SystemTime,
}

/// Which files of a tenant to list, by id (so by creation time).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileQuery {
    pub purpose: Option<String>,
    /// Only files listed after this id in the chosen order (a cursor).
    pub after: Option<String>,
    pub limit: u32,
    /// Oldest first when set; newest first otherwise (OpenAI's default).
    pub ascending: bool,
}

/// File metadata, tenant-scoped.
#[async_trait]
pub trait FileStore: Send + Sync {
    async fn create_file(&self, file: &FileRecord) -> Result<(), GatewayError>;
    async fn get_file(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<FileRecord>, GatewayError>;
    async fn list_files(
        &self,
        tenant: &TenantId,
        query: &FileQuery,
    ) -> Result<Vec<FileRecord>, GatewayError>;
    /// Whether the tenant had such a file.
    async fn delete_file(&self, tenant: &TenantId, id: &str) -> Result<bool, GatewayError>;
    /// How many files the tenant stores and their bytes in all (the `[files]` quotas).
    async fn tenant_usage(&self, tenant: &TenantId) -> Result<StorageUsage, GatewayError>;
}

/// What one tenant stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageUsage {
    pub files: u64,
    pub bytes: u64,
}
