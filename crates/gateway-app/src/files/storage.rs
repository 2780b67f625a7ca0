//! The storage of file bytes, behind a trait so that an object store can replace the local
//! directory. Bytes go in and out as streams: a file is never held whole in memory.

use std::io;
use std::pin::Pin;

use async_trait::async_trait;
use tokio::io::AsyncRead;

/// A blob being written. It becomes readable under its id only once committed; dropped or
/// aborted, it leaves nothing behind.
#[async_trait]
pub trait BlobSink: Send {
    async fn write(&mut self, chunk: &[u8]) -> io::Result<()>;
    /// Makes the blob durable and visible; returns its size in bytes.
    async fn commit(self: Box<Self>) -> io::Result<u64>;
    async fn abort(self: Box<Self>);
}

/// Where file bytes live. Ids are checked by the caller (`files::is_valid_id`).
#[async_trait]
pub trait BlobStorage: Send + Sync {
    /// Starts a new blob `id` (an existing one is replaced on commit).
    async fn create(&self, id: &str) -> io::Result<Box<dyn BlobSink>>;
    /// Reads blob `id` from the start.
    async fn open(&self, id: &str) -> io::Result<Pin<Box<dyn AsyncRead + Send>>>;
    /// Removes blob `id`; a missing blob is not an error.
    async fn delete(&self, id: &str) -> io::Result<()>;
}
