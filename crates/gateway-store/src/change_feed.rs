//! [`PgChangeFeed`]: the instances' [`ChangeFeed`] over PostgreSQL `LISTEN`/`NOTIFY`, for
//! deployments whose instances share a PostgreSQL store but no Redis. Publishing is one
//! `pg_notify` on the pool; subscribing holds one dedicated listening connection per process,
//! re-established with exponential backoff after a loss (and then every cached entry is
//! dropped, since notifications sent meanwhile were lost).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gateway_core::GatewayError;
use gateway_core::change_feed::{Change, ChangeFeed, ChangeSink};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use crate::SqlStore;
use crate::pool::Backend;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// `NOTIFY` on one channel of the store's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PgChangeFeed {
    pool: PgPool,
    channel: Arc<str>,
}

impl SqlStore {
    /// A change feed over this store's database, when it is PostgreSQL (SQLite is one
    /// process's file: there is nobody to tell).
    pub fn change_feed(&self, channel: &str) -> Option<PgChangeFeed> {
        match &self.backend {
            Backend::Postgres(pool) => Some(PgChangeFeed {
                pool: pool.clone(),
                channel: Arc::from(channel),
            }),
            Backend::Sqlite(_) => None,
        }
    }
}

impl PgChangeFeed {
    /// Listens until the connection is lost or fails.
    async fn listen(&self, sink: &dyn ChangeSink, resync: bool) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(&self.channel).await?;
        if resync {
            sink.apply(Change::All).await;
        }
        // `try_recv` reports a lost connection as `None` instead of reconnecting silently,
        // so that the gap is noticed and the caches dropped.
        while let Some(notification) = listener.try_recv().await? {
            if let Some(change) = Change::decode(notification.payload()) {
                sink.apply(change).await;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ChangeFeed for PgChangeFeed {
    async fn publish(&self, change: &Change) -> Result<(), GatewayError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&*self.channel)
            .bind(change.encode())
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|e| GatewayError::Unavailable(format!("change feed publish failed: {e}")))
    }

    fn subscribe(&self, sink: Arc<dyn ChangeSink>) {
        let feed = self.clone();
        tokio::spawn(async move {
            let mut backoff = BACKOFF_MIN;
            // The first attempt needs no resync (nothing was cached before it); any later
            // one follows a gap in which changes may have been sent unseen.
            let mut resync = false;
            loop {
                let outcome = feed.listen(sink.as_ref(), resync).await;
                resync = true;
                match outcome {
                    Ok(()) => {
                        tracing::warn!(channel = %feed.channel, "change feed connection lost; reconnecting");
                        backoff = BACKOFF_MIN;
                    }
                    Err(e) => {
                        tracing::warn!(channel = %feed.channel, error = %e, retry_in_ms = backoff.as_millis() as u64, "change feed unavailable; caches fall back to their TTL");
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        });
    }
}
