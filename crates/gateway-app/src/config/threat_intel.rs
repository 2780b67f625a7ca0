//! `[threat_intel]`: feeds of client-address blocklists, prompt signatures and leaked-key
//! digests (docs/security.md, "Threat intelligence"). Read at start (a change needs a
//! restart); each feed is refreshed on its own schedule.
//!
//! ```toml
//! [threat_intel]
//! allow_private = []        # networks a feed URL may reach although not public
//! allow_http = false        # plain http:// feed URLs (https only by default)
//!
//! [[threat_intel.feeds]]
//! name = "drop"
//! kind = "ip_blocklist"     # ip_blocklist | prompt_signatures | leaked_keys
//! format = "plain"          # plain | csv | stix2
//! column = "ip"             # csv only: header name, or 0-based index
//! source = "https://feeds.example.net/drop.txt"   # or a file path
//! refresh = "1h"
//! sha256 = "..."            # pin of the exact content, or:
//! public_key = "..."        # base64 Ed25519 key; the signature is at signature_source
//! signature_source = "https://feeds.example.net/drop.txt.sig"   # default: source + ".sig"
//! action = "block"          # block | flag
//! max_bytes = 67108864
//! ```

use std::time::Duration;

use gateway_policy::threat_intel::{FeedAction, FeedFormat, FeedKind};
use ipnet::IpNet;
use serde::Deserialize;

use super::Problem;

/// Most feeds.
const MAX_FEEDS: usize = 64;
/// Shortest refresh interval.
const MIN_REFRESH: Duration = Duration::from_secs(10);
/// Largest feed accepted at all.
const MAX_FEED_BYTES: u64 = 1 << 30;

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThreatIntelConfig {
    /// Networks (CIDR) that feed URLs may reach although they are private, loopback or
    /// link-local; nothing but public addresses otherwise.
    pub allow_private: Vec<String>,
    /// Whether `http://` feed URLs are accepted (their content is still verified).
    pub allow_http: bool,
    pub feeds: Vec<FeedConfig>,
}

/// The format as written in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatName {
    Plain,
    Csv,
    Stix2,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Letters, digits, `-`, `_`, `.`: names the feed in metrics, audit and the file of its
    /// last good copy.
    pub name: String,
    pub kind: FeedKind,
    pub format: FormatName,
    /// CSV: the column (header name, or 0-based index).
    #[serde(default)]
    pub column: Option<String>,
    /// A file path, or an `https://` URL.
    pub source: String,
    #[serde(
        default = "default_refresh",
        deserialize_with = "gateway_core::duration::deserialize"
    )]
    pub refresh: Duration,
    /// Lowercase hex SHA-256 the content must have.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Base64 of a raw 32-byte Ed25519 public key; the content must carry a valid detached
    /// signature (base64) at `signature_source`.
    #[serde(default)]
    pub public_key: Option<String>,
    #[serde(default)]
    pub signature_source: Option<String>,
    #[serde(default)]
    pub action: FeedAction,
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

fn default_refresh() -> Duration {
    Duration::from_secs(3600)
}

fn default_max_bytes() -> u64 {
    64 * 1024 * 1024
}

impl FeedConfig {
    pub fn format(&self) -> FeedFormat {
        match self.format {
            FormatName::Plain => FeedFormat::Plain,
            FormatName::Csv => FeedFormat::Csv {
                column: self.column.clone().unwrap_or_else(|| "0".to_owned()),
            },
            FormatName::Stix2 => FeedFormat::Stix2,
        }
    }

    /// Whether the source is a URL (else a file path).
    pub fn is_url(&self) -> bool {
        let s = self.source.to_ascii_lowercase();
        s.starts_with("https://") || s.starts_with("http://")
    }

    /// Where the detached signature is.
    pub fn signature_location(&self) -> String {
        self.signature_source
            .clone()
            .unwrap_or_else(|| format!("{}.sig", self.source))
    }
}

impl ThreatIntelConfig {
    /// The allowlist, parsed (entries that do not parse are reported by `validate`).
    pub fn allowed_networks(&self) -> Vec<IpNet> {
        self.allow_private
            .iter()
            .filter_map(|c| c.trim().parse().ok())
            .collect()
    }

    pub(crate) fn validate(&self, problems: &mut Vec<Problem>) {
        for (i, net) in self.allow_private.iter().enumerate() {
            if net.trim().parse::<IpNet>().is_err() {
                problems.push(Problem::new(
                    &format!("threat_intel.allow_private[{i}]"),
                    format!("'{net}' is not a CIDR block"),
                ));
            }
        }
        if self.feeds.len() > MAX_FEEDS {
            problems.push(Problem::new(
                "threat_intel.feeds",
                format!("at most {MAX_FEEDS} feeds"),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, feed) in self.feeds.iter().enumerate() {
            let key = |field: &str| format!("threat_intel.feeds[{i}].{field}");
            let valid_name = !feed.name.is_empty()
                && feed.name.len() <= 64
                && feed
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && !feed.name.starts_with('.');
            if !valid_name {
                problems.push(Problem::new(
                    &key("name"),
                    "1 to 64 letters, digits, '-', '_' or '.', not starting with '.'",
                ));
            } else if !names.insert(feed.name.as_str()) {
                problems.push(Problem::new(&key("name"), "repeated"));
            }
            if feed.format == FormatName::Csv && feed.column.is_none() {
                problems.push(Problem::new(
                    &key("column"),
                    "a csv feed names its column (header name or 0-based index)",
                ));
            }
            if feed.format != FormatName::Csv && feed.column.is_some() {
                problems.push(Problem::new(&key("column"), "only for format = \"csv\""));
            }
            if feed.refresh < MIN_REFRESH {
                problems.push(Problem::new(&key("refresh"), "at least 10s"));
            }
            if feed.max_bytes == 0 || feed.max_bytes > MAX_FEED_BYTES {
                problems.push(Problem::new(&key("max_bytes"), "between 1 and 1 GiB"));
            }
            if let Some(pin) = &feed.sha256
                && (pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                problems.push(Problem::new(&key("sha256"), "64 hex digits"));
            }
            if let Some(key_b64) = &feed.public_key
                && crate::threat_intel::verify::public_key(key_b64).is_err()
            {
                problems.push(Problem::new(
                    &key("public_key"),
                    "base64 of a raw 32-byte Ed25519 public key",
                ));
            }
            if feed.signature_source.is_some() && feed.public_key.is_none() {
                problems.push(Problem::new(&key("signature_source"), "needs public_key"));
            }
            if feed.is_url() {
                if feed.sha256.is_none() && feed.public_key.is_none() {
                    problems.push(Problem::new(&key("source"),
                        "a feed fetched from a URL is verified before use: set sha256 or public_key",
                    ));
                }
                if feed.source.to_ascii_lowercase().starts_with("http://") && !self.allow_http {
                    problems.push(Problem::new(
                        &key("source"),
                        "http:// needs threat_intel.allow_http = true",
                    ));
                }
            } else if feed.source.contains("://") {
                problems.push(Problem::new(
                    &key("source"),
                    "an https:// URL or a file path",
                ));
            }
        }
    }
}
