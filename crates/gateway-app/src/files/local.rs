//! [`LocalDir`]: blobs as files of one directory (`[files] dir`). A blob is written to a
//! `.part` file, flushed to disk and renamed on commit, so a crash never leaves a half file
//! under a real id.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWriteExt, BufWriter};

use super::storage::{BlobSink, BlobStorage};

/// A directory of blobs.
pub struct LocalDir {
    dir: PathBuf,
}

impl LocalDir {
    /// Opens `dir` (created with the first blob, so that a gateway that stores no file
    /// creates no directory), and removes `.part` files a crash left behind.
    pub fn open(dir: &Path) -> io::Result<LocalDir> {
        let entries = match std::fs::read_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            other => Some(other?),
        };
        for entry in entries.into_iter().flatten() {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "part") {
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(LocalDir {
            dir: dir.to_owned(),
        })
    }

    fn path(&self, id: &str) -> io::Result<PathBuf> {
        // Ids are checked by the caller; this is the last guard before the file system.
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad blob id"));
        }
        Ok(self.dir.join(id))
    }
}

struct LocalSink {
    file: BufWriter<tokio::fs::File>,
    part: PathBuf,
    target: PathBuf,
    written: u64,
}

#[async_trait]
impl BlobSink for LocalSink {
    async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.file.write_all(chunk).await?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> io::Result<u64> {
        self.file.flush().await?;
        self.file.get_mut().sync_all().await?;
        tokio::fs::rename(&self.part, &self.target).await?;
        Ok(self.written)
    }

    async fn abort(self: Box<Self>) {
        let part = self.part.clone();
        drop(self.file);
        let _ = tokio::fs::remove_file(part).await;
    }
}

#[async_trait]
impl BlobStorage for LocalDir {
    async fn create(&self, id: &str) -> io::Result<Box<dyn BlobSink>> {
        let target = self.path(id)?;
        let part = target.with_extension("part");
        tokio::fs::create_dir_all(&self.dir).await?;
        let file = tokio::fs::File::create(&part).await?;
        Ok(Box::new(LocalSink {
            file: BufWriter::with_capacity(64 * 1024, file),
            part,
            target,
            written: 0,
        }))
    }

    async fn open(&self, id: &str) -> io::Result<Pin<Box<dyn AsyncRead + Send>>> {
        let file = tokio::fs::File::open(self.path(id)?).await?;
        Ok(Box::pin(file))
    }

    async fn delete(&self, id: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(id)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn a_blob_is_visible_only_once_committed_and_aborts_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::open(dir.path()).unwrap();
        let mut sink = store.create("file-1").await.unwrap();
        sink.write(b"hello ").await.unwrap();
        sink.write(b"world").await.unwrap();
        assert!(store.open("file-1").await.is_err(), "not before commit");
        assert_eq!(sink.commit().await.unwrap(), 11);
        let mut text = String::new();
        store
            .open("file-1")
            .await
            .unwrap()
            .read_to_string(&mut text)
            .await
            .unwrap();
        assert_eq!(text, "hello world");

        let mut aborted = store.create("file-2").await.unwrap();
        aborted.write(b"partial").await.unwrap();
        aborted.abort().await;
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        store.delete("file-1").await.unwrap();
        store.delete("file-1").await.unwrap();
        assert!(store.open("file-1").await.is_err());
        assert!(store.create("../escape").await.is_err());
    }
}
