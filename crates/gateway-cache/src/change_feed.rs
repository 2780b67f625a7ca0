//! [`RedisChangeFeed`]: the instances' [`ChangeFeed`] over Redis pub/sub. Publishing uses a
//! self-reconnecting multiplexed connection; subscribing holds one dedicated pub/sub
//! connection per process, re-established with exponential backoff after a loss (and then
//! every cached entry is dropped, since messages published meanwhile were lost).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use gateway_core::GatewayError;
use gateway_core::change_feed::{
    Change, ChangeFeed, ChangeSink, RECONNECT_BACKOFF, keep_listening,
};
use redis::aio::ConnectionManager;

use crate::error::CacheError;
use crate::redis_store::connect_lazy;

/// Redis pub/sub on one channel. Cheap to clone.
#[derive(Clone)]
pub struct RedisChangeFeed {
    client: redis::Client,
    conn: ConnectionManager,
    channel: Arc<str>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisChangeFeed")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl RedisChangeFeed {
    /// Connects lazily (a Redis down at start-up is retried like one lost later). Must be
    /// called inside a tokio runtime.
    pub fn new(url: &str, channel: &str, timeout: Duration) -> Result<Self, CacheError> {
        Ok(RedisChangeFeed {
            client: redis::Client::open(url)?,
            conn: connect_lazy(url, timeout, RECONNECT_BACKOFF.1)?,
            channel: Arc::from(channel),
            timeout,
        })
    }

    /// Listens until the connection is lost; `Ok` only after a successful subscription.
    /// With `resync`, every cached entry is dropped once subscribed.
    async fn listen(&self, sink: &dyn ChangeSink, resync: bool) -> redis::RedisResult<()> {
        let mut pubsub = tokio::time::timeout(self.timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| {
                redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
            })??;
        pubsub.subscribe(&*self.channel).await?;
        if resync {
            sink.apply(Change::All).await;
        }
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            if let Some(change) = Change::decode(&payload) {
                sink.apply(change).await;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ChangeFeed for RedisChangeFeed {
    async fn publish(&self, change: &Change) -> Result<(), GatewayError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&*self.channel).arg(change.encode());
        let send = cmd.query_async::<i64>(&mut conn);
        match tokio::time::timeout(self.timeout, send).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(GatewayError::Unavailable(format!(
                "change feed publish failed: {e}"
            ))),
            Err(_) => Err(GatewayError::Unavailable(
                "change feed publish timed out".to_owned(),
            )),
        }
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
