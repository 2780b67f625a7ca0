//! File bytes sealed per tenant (local directory and S3 alike), streamed: the plaintext is cut
//! into segments of [`SEGMENT`] bytes, each sealed on its own with the tenant's data key. A
//! frame is `flag (1 byte: 1 on the last segment) | length (u32, big-endian) | sealed bytes`,
//! after a `GWF1` header. The authenticated data of a segment binds the file id, its index and
//! the flag, so segments cannot be reordered, dropped, or the file cut short unnoticed.

use std::io;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use gateway_core::TenantId;
use gateway_core::encryption::ContentCipher;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::storage::BlobSink;

/// Plaintext bytes per sealed segment.
pub const SEGMENT: usize = 64 * 1024;
const MAGIC: &[u8; 4] = b"GWF1";
/// A frame's sealed bytes at most: a segment plus the cipher's header, nonce and tag.
const MAX_FRAME: usize = SEGMENT + 64;

fn record(id: &str, index: u64, last: bool) -> String {
    format!("files/{id}/{index}/{}", u8::from(last))
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// A [`BlobSink`] that seals what it is given before the inner sink stores it.
pub struct SealingSink {
    inner: Box<dyn BlobSink>,
    cipher: Arc<dyn ContentCipher>,
    tenant: TenantId,
    id: String,
    buf: Vec<u8>,
    index: u64,
    plain_bytes: u64,
    started: bool,
}

impl SealingSink {
    pub fn new(
        inner: Box<dyn BlobSink>,
        cipher: Arc<dyn ContentCipher>,
        tenant: TenantId,
        id: &str,
    ) -> Self {
        SealingSink {
            inner,
            cipher,
            tenant,
            id: id.to_owned(),
            buf: Vec::with_capacity(SEGMENT),
            index: 0,
            plain_bytes: 0,
            started: false,
        }
    }

    async fn flush_segment(&mut self, last: bool) -> io::Result<()> {
        if !self.started {
            self.inner.write(MAGIC).await?;
            self.started = true;
        }
        let sealed = self
            .cipher
            .seal(&self.tenant, &record(&self.id, self.index, last), &self.buf)
            .await
            .map_err(io_err)?;
        let len = u32::try_from(sealed.len()).map_err(io_err)?;
        let mut frame = Vec::with_capacity(5 + sealed.len());
        frame.push(u8::from(last));
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&sealed);
        self.inner.write(&frame).await?;
        self.buf.clear();
        self.index += 1;
        Ok(())
    }
}

#[async_trait]
impl BlobSink for SealingSink {
    async fn write(&mut self, mut chunk: &[u8]) -> io::Result<()> {
        self.plain_bytes += chunk.len() as u64;
        while !chunk.is_empty() {
            let take = (SEGMENT - self.buf.len()).min(chunk.len());
            self.buf.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.buf.len() == SEGMENT {
                self.flush_segment(false).await?;
            }
        }
        Ok(())
    }

    /// Returns the plaintext's size (what the file's metadata and quota count).
    async fn commit(mut self: Box<Self>) -> io::Result<u64> {
        self.flush_segment(true).await?;
        let plain = self.plain_bytes;
        self.inner.commit().await?;
        Ok(plain)
    }

    async fn abort(self: Box<Self>) {
        self.inner.abort().await;
    }
}

struct Opening {
    reader: Pin<Box<dyn AsyncRead + Send>>,
    cipher: Arc<dyn ContentCipher>,
    tenant: TenantId,
    id: String,
    index: u64,
    done: bool,
}

impl Opening {
    async fn next_segment(&mut self) -> io::Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        if self.index == 0 {
            let mut magic = [0u8; 4];
            self.reader.read_exact(&mut magic).await?;
            if &magic != MAGIC {
                return Err(io_err("not a sealed file"));
            }
        }
        let mut head = [0u8; 5];
        self.reader
            .read_exact(&mut head)
            .await
            .map_err(|_| io_err("sealed file cut short"))?;
        let last = match head[0] {
            0 => false,
            1 => true,
            _ => return Err(io_err("damaged sealed file")),
        };
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if len > MAX_FRAME {
            return Err(io_err("damaged sealed file"));
        }
        let mut sealed = vec![0u8; len];
        self.reader.read_exact(&mut sealed).await?;
        let plain = self
            .cipher
            .open(&self.tenant, &record(&self.id, self.index, last), &sealed)
            .await
            .map_err(io_err)?;
        self.index += 1;
        self.done = last;
        Ok(Some(Bytes::from(plain)))
    }
}

/// The plaintext of a sealed blob, as a reader; a damaged, truncated or shredded file is an
/// I/O error at the point where it stops opening.
pub fn open(
    reader: Pin<Box<dyn AsyncRead + Send>>,
    cipher: Arc<dyn ContentCipher>,
    tenant: TenantId,
    id: &str,
) -> Pin<Box<dyn AsyncRead + Send>> {
    let state = Opening {
        reader,
        cipher,
        tenant,
        id: id.to_owned(),
        index: 0,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        match s.next_segment().await {
            Ok(Some(bytes)) => Some((Ok(bytes), s)),
            Ok(None) => None,
            Err(e) => {
                s.done = true;
                Some((Err(e), s))
            }
        }
    });
    Box::pin(tokio_util::io::StreamReader::new(Box::pin(stream)))
}
