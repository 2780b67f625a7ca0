//! [`S3Storage`]: blobs as objects of an S3-compatible bucket (`[files] backend = "s3"`).
//!
//! Requests are signed with AWS Signature Version 4 by `rusty-s3` (sans-IO: it signs URLs,
//! this module sends them) and sent with the gateway's upstream client
//! (`gateway_providers::HttpClient`: hyper and rustls, pooled connections). Bytes are never held
//! whole: an upload keeps at most one part (`[files.s3] part_bytes`) in memory; a blob smaller
//! than a part is one `PUT`, a larger one a multipart upload (each full part sent as it fills,
//! completed on commit, aborted on abort or drop, so nothing half-written becomes visible); a
//! download streams the object's body, each chunk within the request timeout.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use http::{Request, StatusCode};
use http_body_util::{BodyDataStream, BodyExt, Full, Limited};
use rusty_s3::actions::CreateMultipartUpload;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use tokio::io::AsyncRead;

use gateway_providers::client::{HttpClient, Timeouts, UpstreamBody};

use super::storage::{BlobSink, BlobStorage};
use crate::config::S3Config;

/// How long a signed URL stays valid (it is used at once).
const URL_VALIDITY: Duration = Duration::from_secs(300);
/// The most of a store's answer that is read (an upload id, an error code).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A bucket of an S3-compatible store.
#[derive(Clone)]
pub struct S3Storage {
    inner: Arc<Inner>,
}

struct Inner {
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    part_bytes: usize,
    client: HttpClient,
    timeout: Duration,
}

impl std::fmt::Debug for S3Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Storage")
            .field("bucket", &self.inner.bucket.name())
            .finish_non_exhaustive()
    }
}

fn other(message: impl Into<String>) -> io::Error {
    io::Error::other(message.into())
}

/// The bucket `config` names (its URL style and region).
pub fn bucket(config: &S3Config) -> io::Result<Bucket> {
    let endpoint = url::Url::parse(&config.endpoint)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let style = if config.path_style {
        UrlStyle::Path
    } else {
        UrlStyle::VirtualHost
    };
    Bucket::new(
        endpoint,
        style,
        config.bucket.clone(),
        config.region.clone(),
    )
    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

impl S3Storage {
    /// The storage `config` describes, sending with `client`.
    pub fn new(config: &S3Config, client: HttpClient) -> io::Result<S3Storage> {
        Ok(S3Storage {
            inner: Arc::new(Inner {
                bucket: bucket(config)?,
                credentials: Credentials::new(
                    config.access_key_id.expose().clone(),
                    config.secret_access_key.expose().clone(),
                ),
                prefix: config.prefix.clone(),
                part_bytes: usize::try_from(config.part_bytes).unwrap_or(usize::MAX),
                client,
                timeout: config.timeout,
            }),
        })
    }
}

impl Inner {
    fn key(&self, id: &str) -> io::Result<String> {
        // Ids are checked by the caller; this is the last guard before the store.
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad blob id"));
        }
        Ok(format!("{}{id}", self.prefix))
    }

    /// Sends one signed request; its answer's head within the timeout.
    async fn send(
        &self,
        method: http::Method,
        url: url::Url,
        body: Bytes,
    ) -> io::Result<http::Response<UpstreamBody>> {
        let req = Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(Full::new(body))
            .map_err(|e| other(format!("building an S3 request: {e}")))?;
        let timeouts = Timeouts {
            first_byte: self.timeout,
            ..Timeouts::default()
        };
        self.client
            .send(req, &timeouts)
            .await
            .map_err(|e| other(format!("the object store cannot be reached: {e}")))
    }

    /// Sends a request and reads its (small) answer; an error unless it is a success.
    async fn call(
        &self,
        what: &str,
        method: http::Method,
        url: url::Url,
        body: Bytes,
    ) -> io::Result<(http::HeaderMap, Bytes)> {
        let resp = self.send(method, url, body).await?;
        let status = resp.status();
        let (head, body) = resp.into_parts();
        let read =
            tokio::time::timeout(self.timeout, Limited::new(body, MAX_ANSWER_BYTES).collect())
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the object store stalled"))?;
        let bytes = read.map(|b| b.to_bytes()).unwrap_or_default();
        if !status.is_success() {
            return Err(store_error(what, status, &bytes));
        }
        Ok((head.headers, bytes))
    }

    async fn abort_upload(&self, key: &str, upload_id: &str) {
        let url = self
            .bucket
            .abort_multipart_upload(Some(&self.credentials), key, upload_id)
            .sign(URL_VALIDITY);
        if let Err(e) = self
            .call(
                "abort multipart upload",
                http::Method::DELETE,
                url,
                Bytes::new(),
            )
            .await
        {
            tracing::warn!(error = %e, "could not abort a multipart upload; a bucket lifecycle rule removes it");
        }
    }
}

/// An error naming the operation, the status and the store's error code (never its body).
fn store_error(what: &str, status: StatusCode, body: &[u8]) -> io::Error {
    let text = String::from_utf8_lossy(body);
    let code = text
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code)
        .filter(|c| c.len() < 64 && c.bytes().all(|b| b.is_ascii_alphanumeric()));
    let kind = if status == StatusCode::NOT_FOUND {
        io::ErrorKind::NotFound
    } else {
        io::ErrorKind::Other
    };
    io::Error::new(
        kind,
        format!(
            "object store: {what} answered {status}{}",
            code.map(|c| format!(" ({c})")).unwrap_or_default()
        ),
    )
}

/// A blob being written: the part being filled, and the multipart upload once started.
struct S3Sink {
    inner: Arc<Inner>,
    key: String,
    buffer: BytesMut,
    upload: Option<Upload>,
    written: u64,
    done: bool,
}

struct Upload {
    id: String,
    etags: Vec<String>,
}

impl S3Sink {
    /// Sends the first `part_bytes` of the buffer as the next part (starting the multipart
    /// upload first if needed).
    async fn send_part(&mut self, len: usize) -> io::Result<()> {
        let inner = self.inner.clone();
        if self.upload.is_none() {
            let url = inner
                .bucket
                .create_multipart_upload(Some(&inner.credentials), &self.key)
                .sign(URL_VALIDITY);
            let (_, body) = inner
                .call(
                    "create multipart upload",
                    http::Method::POST,
                    url,
                    Bytes::new(),
                )
                .await?;
            let text = std::str::from_utf8(&body)
                .map_err(|_| other("object store: the upload id is not UTF-8"))?;
            let created = CreateMultipartUpload::parse_response(text).map_err(|e| {
                other(format!(
                    "object store: bad CreateMultipartUpload answer: {e}"
                ))
            })?;
            self.upload = Some(Upload {
                id: created.upload_id().to_owned(),
                etags: Vec::new(),
            });
        }
        let Some(upload) = &mut self.upload else {
            return Err(other("no multipart upload"));
        };
        let number = u16::try_from(upload.etags.len() + 1)
            .ok()
            .filter(|n| *n <= 10_000)
            .ok_or_else(|| {
                other("object store: more than 10000 parts; raise [files.s3] part_bytes")
            })?;
        let part = self.buffer.split_to(len).freeze();
        let url = inner
            .bucket
            .upload_part(Some(&inner.credentials), &self.key, number, &upload.id)
            .sign(URL_VALIDITY);
        let (headers, _) = inner
            .call("upload part", http::Method::PUT, url, part)
            .await?;
        let etag = headers
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| other("object store: a part was stored without an ETag"))?;
        upload.etags.push(etag.to_owned());
        Ok(())
    }
}

#[async_trait]
impl BlobSink for S3Sink {
    async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        let part = self.inner.part_bytes;
        let mut rest = chunk;
        while !rest.is_empty() {
            let take = rest.len().min(part - self.buffer.len());
            self.buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.buffer.len() == part {
                self.send_part(part).await?;
            }
        }
        self.written += chunk.len() as u64;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> io::Result<u64> {
        let inner = self.inner.clone();
        if self.upload.is_none() {
            let url = inner
                .bucket
                .put_object(Some(&inner.credentials), &self.key)
                .sign(URL_VALIDITY);
            let body = std::mem::take(&mut self.buffer).freeze();
            inner
                .call("put object", http::Method::PUT, url, body)
                .await?;
            self.done = true;
            return Ok(self.written);
        }
        if !self.buffer.is_empty() {
            let len = self.buffer.len();
            self.send_part(len).await?;
        }
        let Some(upload) = self.upload.take() else {
            return Err(other("no multipart upload"));
        };
        let action = inner.bucket.complete_multipart_upload(
            Some(&inner.credentials),
            &self.key,
            &upload.id,
            upload.etags.iter().map(String::as_str),
        );
        let url = action.sign(URL_VALIDITY);
        let body = Bytes::from(action.body());
        let result = inner
            .call("complete multipart upload", http::Method::POST, url, body)
            .await;
        match result {
            // S3 may answer 200 with an error document when completing.
            Ok((_, answer)) if !answer.windows(7).any(|w| w == b"<Error>") => {
                self.done = true;
                Ok(self.written)
            }
            Ok((_, answer)) => {
                inner.abort_upload(&self.key, &upload.id).await;
                self.done = true;
                Err(store_error(
                    "complete multipart upload",
                    StatusCode::OK,
                    &answer,
                ))
            }
            Err(e) => {
                inner.abort_upload(&self.key, &upload.id).await;
                self.done = true;
                Err(e)
            }
        }
    }

    async fn abort(mut self: Box<Self>) {
        self.done = true;
        if let Some(upload) = self.upload.take() {
            self.inner.abort_upload(&self.key, &upload.id).await;
        }
    }
}

impl Drop for S3Sink {
    /// Dropped mid-way (a client that went away): abort the multipart upload in the
    /// background, so that its parts do not linger in the bucket.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let (Some(upload), Ok(runtime)) =
            (self.upload.take(), tokio::runtime::Handle::try_current())
        {
            let inner = self.inner.clone();
            let key = std::mem::take(&mut self.key);
            runtime.spawn(async move { inner.abort_upload(&key, &upload.id).await });
        }
    }
}

#[async_trait]
impl BlobStorage for S3Storage {
    async fn create(&self, id: &str) -> io::Result<Box<dyn BlobSink>> {
        let key = self.inner.key(id)?;
        Ok(Box::new(S3Sink {
            inner: self.inner.clone(),
            key,
            buffer: BytesMut::new(),
            upload: None,
            written: 0,
            done: false,
        }))
    }

    async fn open(&self, id: &str) -> io::Result<Pin<Box<dyn AsyncRead + Send>>> {
        let inner = &self.inner;
        let key = inner.key(id)?;
        let url = inner
            .bucket
            .get_object(Some(&inner.credentials), &key)
            .sign(URL_VALIDITY);
        let resp = inner.send(http::Method::GET, url, Bytes::new()).await?;
        let status = resp.status();
        if !status.is_success() {
            let body = tokio::time::timeout(
                inner.timeout,
                Limited::new(resp.into_body(), MAX_ANSWER_BYTES).collect(),
            )
            .await
            .ok()
            .and_then(Result::ok)
            .map(|b| b.to_bytes())
            .unwrap_or_default();
            return Err(store_error("get object", status, &body));
        }
        let idle = inner.timeout;
        let chunks = BodyDataStream::new(resp.into_body()).map_err(io::Error::other);
        // Each chunk within the timeout: a store that stalls mid-body fails the read.
        let bounded = futures_util::stream::unfold(Some(chunks), move |state| async move {
            let mut chunks = state?;
            match tokio::time::timeout(idle, chunks.next()).await {
                Ok(Some(item)) => Some((item, Some(chunks))),
                Ok(None) => None,
                Err(_) => Some((
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the object store stalled mid-download",
                    )),
                    None,
                )),
            }
        });
        Ok(Box::pin(tokio_util::io::StreamReader::new(Box::pin(
            bounded,
        ))))
    }

    async fn delete(&self, id: &str) -> io::Result<()> {
        let inner = &self.inner;
        let key = inner.key(id)?;
        let url = inner
            .bucket
            .delete_object(Some(&inner.credentials), &key)
            .sign(URL_VALIDITY);
        match inner
            .call("delete object", http::Method::DELETE, url, Bytes::new())
            .await
        {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use gateway_core::Secret;

    use super::*;

    fn config(path_style: bool) -> S3Config {
        S3Config {
            endpoint: "https://s3.amazonaws.com".into(),
            bucket: "examplebucket".into(),
            region: "us-east-1".into(),
            prefix: String::new(),
            path_style,
            access_key_id: Secret::new("AKIAIOSFODNN7EXAMPLE".into()),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
            part_bytes: 5 << 20,
            timeout: Duration::from_secs(5),
        }
    }

    /// AWS's published example of a presigned URL (Amazon S3 API reference, "Authenticating
    /// Requests: Using Query Parameters (AWS Signature Version 4)"): GET `test.txt` of
    /// `examplebucket`, signed on 2013-05-24 for 86400 seconds with the documentation's
    /// example credentials.
    #[test]
    fn signing_matches_the_aws_sigv4_presigned_url_example() {
        let c = config(false);
        let bucket = bucket(&c).unwrap();
        let credentials = Credentials::new(
            c.access_key_id.expose().clone(),
            c.secret_access_key.expose().clone(),
        );
        let at: jiff::Timestamp = "2013-05-24T00:00:00Z".parse().unwrap();
        let url = bucket
            .get_object(Some(&credentials), "test.txt")
            .sign_with_time(Duration::from_secs(86_400), &at);
        assert_eq!(url.host_str(), Some("examplebucket.s3.amazonaws.com"));
        assert_eq!(url.path(), "/test.txt");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
        assert_eq!(
            query["X-Amz-Credential"],
            "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
        );
        assert_eq!(query["X-Amz-Date"], "20130524T000000Z");
        assert_eq!(query["X-Amz-Expires"], "86400");
        assert_eq!(query["X-Amz-SignedHeaders"], "host");
        assert_eq!(
            query["X-Amz-Signature"],
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn path_style_puts_the_bucket_in_the_path_and_keys_are_guarded() {
        let mut c = config(true);
        c.endpoint = "http://127.0.0.1:9000".into();
        c.prefix = "files/".into();
        let bucket = bucket(&c).unwrap();
        assert_eq!(
            bucket.object_url("files/file-abc").as_str(),
            "http://127.0.0.1:9000/examplebucket/files/file-abc"
        );
        let client = HttpClient::new(Duration::from_secs(1)).unwrap();
        let storage = S3Storage::new(&c, client).unwrap();
        assert_eq!(storage.inner.key("file-abc").unwrap(), "files/file-abc");
        assert!(storage.inner.key("../x").is_err());
        assert!(storage.inner.key("").is_err());
    }

    #[test]
    fn store_errors_name_the_code_but_not_the_body() {
        let e = store_error(
            "put object",
            StatusCode::FORBIDDEN,
            b"<Error><Code>SignatureDoesNotMatch</Code><StringToSign>secret stuff</StringToSign></Error>",
        );
        let text = e.to_string();
        assert!(
            text.contains("403") && text.contains("SignatureDoesNotMatch"),
            "{text}"
        );
        assert!(!text.contains("secret stuff"));
        let missing = store_error("get object", StatusCode::NOT_FOUND, b"");
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
