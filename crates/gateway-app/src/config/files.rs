//! `[files]`: where uploaded and produced files live, how large one may be, and how much one
//! tenant may store (docs/batches.md).
//!
//! ```toml
//! [files]
//! backend = "local"                 # or "s3"
//! dir = "/var/lib/llm-gateway/files" # local: default <server.data_dir>/files
//! max_file_bytes = 209715200        # one upload (200 MiB, OpenAI's limit for batches)
//! tenant_max_bytes = 10737418240    # what one tenant may store in all (unset: no limit)
//! tenant_max_files = 1000           # files one tenant may store (unset: no limit)
//!
//! [files.s3]                        # backend = "s3": any S3-compatible object store
//! endpoint = "https://s3.eu-west-1.amazonaws.com"
//! bucket = "gateway-files"
//! region = "eu-west-1"
//! prefix = "files/"                 # keys are <prefix><file id>
//! path_style = false                # true for MinIO, Ceph and most self-hosted stores
//! access_key_id = "${S3_ACCESS_KEY_ID}"
//! secret_access_key = "${S3_SECRET_ACCESS_KEY}"
//! part_bytes = 8388608              # multipart upload part (>= 5 MiB): the memory per upload
//! timeout = "60s"                   # per request to the store
//! ```

use std::time::Duration;

use gateway_core::Secret;
use serde::Deserialize;

use super::Problem;

/// S3's smallest part of a multipart upload (all but the last).
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// S3's largest part.
pub const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// Where file bytes live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilesBackend {
    /// A directory of this machine (`dir`): one instance, or a shared volume.
    #[default]
    Local,
    /// An S3-compatible object store (`[files.s3]`): any number of instances.
    S3,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    pub backend: FilesBackend,
    /// The directory of the local file storage (default `<server.data_dir>/files`).
    pub dir: Option<std::path::PathBuf>,
    /// The largest file an upload may carry (default 200 MiB, OpenAI's limit for batches).
    pub max_file_bytes: u64,
    /// The most bytes one tenant may store, uploads and batch output together; an upload
    /// that would pass it is refused (413, or 429 when the quota is already used up).
    pub tenant_max_bytes: Option<u64>,
    /// The most files one tenant may store; an upload beyond is refused (429).
    pub tenant_max_files: Option<u64>,
    pub s3: Option<S3Config>,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            backend: FilesBackend::Local,
            dir: None,
            max_file_bytes: 200 * 1024 * 1024,
            tenant_max_bytes: None,
            tenant_max_files: None,
            s3: None,
        }
    }
}

/// `[files.s3]`: an S3-compatible bucket.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The store's base URL (`https://s3.eu-west-1.amazonaws.com`, `http://minio:9000`).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    /// Prefix of every object key.
    #[serde(default)]
    pub prefix: String,
    /// `endpoint/bucket/key` instead of `bucket.endpoint/key`.
    #[serde(default)]
    pub path_style: bool,
    pub access_key_id: Secret<String>,
    pub secret_access_key: Secret<String>,
    /// The size of each part of a multipart upload, and so the memory one upload holds.
    #[serde(default = "default_part_bytes")]
    pub part_bytes: u64,
    /// Each request to the store (its answer's head; a download's body is bounded by the
    /// server's body timeout between chunks).
    #[serde(
        default = "default_timeout",
        deserialize_with = "gateway_core::duration::deserialize"
    )]
    pub timeout: Duration,
}

fn default_part_bytes() -> u64 {
    8 * 1024 * 1024
}

fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

impl FilesConfig {
    pub(crate) fn validate(&self, problems: &mut Vec<Problem>) {
        if self.max_file_bytes == 0 {
            problems.push(Problem::new(
                "files.max_file_bytes",
                "must be greater than 0",
            ));
        }
        for (path, value) in [
            ("files.tenant_max_bytes", self.tenant_max_bytes),
            ("files.tenant_max_files", self.tenant_max_files),
        ] {
            if value == Some(0) {
                problems.push(Problem::new(path, "must be greater than 0 (or left out)"));
            }
        }
        match (self.backend, &self.s3) {
            (FilesBackend::S3, None) => problems.push(Problem::new(
                "files.s3",
                "backend = \"s3\" needs a [files.s3] section (endpoint, bucket, region, credentials)",
            )),
            (_, Some(s3)) => s3.validate(problems),
            _ => {}
        }
    }
}

impl S3Config {
    fn validate(&self, problems: &mut Vec<Problem>) {
        match url::Url::parse(&self.endpoint) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => problems.push(Problem::new(
                "files.s3.endpoint",
                format!(
                    "'{}' is not an http(s) URL such as \"https://s3.eu-west-1.amazonaws.com\"",
                    self.endpoint
                ),
            )),
        }
        for (path, value) in [
            ("files.s3.bucket", &self.bucket),
            ("files.s3.region", &self.region),
        ] {
            if value.trim().is_empty() {
                problems.push(Problem::new(path, "must not be empty"));
            }
        }
        if !(MIN_PART_BYTES..=MAX_PART_BYTES).contains(&self.part_bytes) {
            problems.push(Problem::new(
                "files.s3.part_bytes",
                format!("must be between {MIN_PART_BYTES} (5 MiB) and {MAX_PART_BYTES} (5 GiB)"),
            ));
        }
        if self.timeout.is_zero() {
            problems.push(Problem::new("files.s3.timeout", "must be greater than 0"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_backend_needs_a_complete_section() {
        let mut problems = Vec::new();
        let config = FilesConfig {
            backend: FilesBackend::S3,
            tenant_max_files: Some(0),
            ..FilesConfig::default()
        };
        config.validate(&mut problems);
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["files.tenant_max_files", "files.s3"]);

        let mut problems = Vec::new();
        let config = FilesConfig {
            backend: FilesBackend::S3,
            s3: Some(S3Config {
                endpoint: "minio:9000".into(),
                bucket: " ".into(),
                region: "us-east-1".into(),
                prefix: String::new(),
                path_style: true,
                access_key_id: Secret::new("a".into()),
                secret_access_key: Secret::new("b".into()),
                part_bytes: 1024,
                timeout: Duration::from_secs(1),
            }),
            ..FilesConfig::default()
        };
        config.validate(&mut problems);
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "files.s3.endpoint",
                "files.s3.bucket",
                "files.s3.part_bytes"
            ]
        );
    }
}
