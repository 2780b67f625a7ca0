//! [`PgChangeFeed`]: the instances' [`ChangeFeed`] over PostgreSQL `LISTEN`/`NOTIFY`, for
//! deployments whose instances share a PostgreSQL store but no Redis. Publishing is one
//! `pg_notify` on the pool; subscribing holds one dedicated listening connection per process,
//! re-established with exponential backoff after a loss (and then every cached entry is
//! dropped, since notifications sent meanwhile were lost).

use std::sync::Arc;

use async_trait::async_trait;
use gateway_core::GatewayError;
use gateway_core::change_feed::{Change, ChangeFeed, ChangeSink, keep_listening};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use crate::SqlStore;
use crate::pool::Backend;

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
            let channel = feed.channel.clone();
            keep_listening(
                &channel,
                |resync| {
                    let (feed, sink) = (feed.clone(), sink.clone());
                    async move { feed.listen(sink.as_ref(), resync).await }
                },
                tokio::time::sleep,
            )
            .await;
        });
    }
}
