//! [`ResponseStore`] for [`SqlStore`]: one row per stored Responses API answer. Every query
//! but retention names the tenant, so a row is invisible to every other tenant.

use std::time::SystemTime;

use async_trait::async_trait;
use gateway_core::store::{ResponseStore, StoredResponse, unix_millis};
use gateway_core::{GatewayError, TenantId};

use crate::connect::SqlStore;
use crate::error::{StoreError, conflict};
use crate::pool::on_pool;
use crate::rows::RowExt;

const INSERT: &str = "INSERT INTO responses (id, tenant, created_at_ms, response, input_items, \
                      conversation) VALUES ($1, $2, $3, $4, $5, $6)";
const SELECT: &str = "SELECT id, tenant, created_at_ms, response, input_items, conversation \
                      FROM responses WHERE tenant = $1 AND id = $2";
const DELETE: &str = "DELETE FROM responses WHERE tenant = $1 AND id = $2";
/// Retention deletes in chunks, each its own statement, so that a backlog never holds a long
/// write lock while calls store their answers.
const DELETE_CHUNK: &str = "DELETE FROM responses WHERE id IN \
     (SELECT id FROM responses WHERE created_at_ms < $1 ORDER BY created_at_ms LIMIT $2)";
const DELETE_CHUNK_ROWS: i64 = 1_000;

/// The authenticated record id of one sealed column: `responses/<id>/<column>`.
pub(crate) fn record(id: &str, column: &str) -> String {
    format!("responses/{id}/{column}")
}

fn response_from_row(row: &impl RowExt) -> Result<StoredResponse, StoreError> {
    Ok(StoredResponse {
        id: row.text("id")?,
        tenant: TenantId::new(&row.text("tenant")?),
        created_at: row.time("created_at_ms")?,
        response: row.text("response")?,
        input_items: row.text("input_items")?,
        conversation: row.text("conversation")?,
    })
}

#[async_trait]
impl ResponseStore for SqlStore {
    async fn put_response(&self, r: &StoredResponse) -> Result<(), GatewayError> {
        let (t, id) = (&r.tenant, r.id.as_str());
        let response = self
            .seal_text(t, &record(id, "response"), &r.response)
            .await?;
        let input_items = self
            .seal_text(t, &record(id, "input_items"), &r.input_items)
            .await?;
        let conversation = self
            .seal_text(t, &record(id, "conversation"), &r.conversation)
            .await?;
        let result = on_pool!(&self.backend, pool => {
            sqlx::query(INSERT)
                .bind(&r.id)
                .bind(r.tenant.as_str())
                .bind(unix_millis(r.created_at))
                .bind(&response)
                .bind(&input_items)
                .bind(&conversation)
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result.map_err(StoreError::from) {
            Ok(()) => Ok(()),
            Err(e) if e.is_unique_violation() => Err(conflict("response", &r.id)),
            Err(e) => Err(e.into_gateway()),
        }
    }

    async fn get_response(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<StoredResponse>, GatewayError> {
        let row = on_pool!(&self.backend, pool => {
            let row = sqlx::query(SELECT)
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::from)?;
            row.map(|r| response_from_row(&r)).transpose()?
        });
        let Some(mut r) = row else { return Ok(None) };
        let (t, id) = (&r.tenant, r.id.as_str());
        r.response = self
            .open_text(t, &record(id, "response"), r.response)
            .await?;
        r.input_items = self
            .open_text(t, &record(id, "input_items"), r.input_items)
            .await?;
        r.conversation = self
            .open_text(t, &record(id, "conversation"), r.conversation)
            .await?;
        Ok(Some(r))
    }

    async fn delete_response(&self, tenant: &TenantId, id: &str) -> Result<bool, GatewayError> {
        let deleted = on_pool!(&self.backend, pool => {
            sqlx::query(DELETE)
                .bind(tenant.as_str())
                .bind(id)
                .execute(pool)
                .await
                .map_err(StoreError::from)?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    async fn delete_responses_before(&self, cutoff: SystemTime) -> Result<u64, GatewayError> {
        let cutoff = unix_millis(cutoff);
        Ok(self
            .backend
            .delete_in_chunks(DELETE_CHUNK, cutoff, DELETE_CHUNK_ROWS)
            .await?)
    }
}
