//! The threat-intelligence feeds of `[threat_intel]`: one background task per feed loads it
//! (file or URL, [`fetch`]), verifies it ([`verify`]: SHA-256 pin or Ed25519 signature),
//! parses and compiles it on a blocking thread (never on the request path), and swaps it
//! into the shared [`ThreatIntel`] atomically. The verified bytes are kept on disk
//! (`<data_dir>/threat_intel/<name>.feed`, written to a temporary file then renamed) and put
//! in force first at the next start, so that a source that is unreachable then leaves the
//! last good copy in force. A failed or bad update keeps the set in force, is logged and
//! counted (`gateway_threat_intel_refreshes_total{feed,outcome}`).
//! [`ThreatIntelFeeds::refresh_now`] runs one load of every feed at once and waits for it
//! (what tests use instead of waiting for the schedule).
//!
//! The request path reads the set through [`ThreatIntelFeeds::intel`]: the edge checks the
//! client address and the credential ([`crate::http::inbound::Inbound`]), the
//! [`ThreatIntelGuardrail`] the prompt text.

pub mod fetch;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gateway_policy::threat_intel::{CompiledFeed, ThreatIntel, parse_entries};
use gateway_telemetry::Metrics;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::{FeedConfig, ThreatIntelConfig};
use crate::webhooks::UrlPolicy;

/// A request for one load now, answered with the feed's name and the outcome.
type LoadRequest = oneshot::Sender<(String, Outcome)>;

/// The feeds in force and the tasks that refresh them (stopped when the last clone drops).
#[derive(Clone)]
pub struct ThreatIntelFeeds {
    intel: Arc<ThreatIntel>,
    /// One per feed: asks its task for a load now, answered with the outcome.
    now: Arc<[mpsc::Sender<LoadRequest>]>,
    /// Loads finished so far, by every feed (scheduled or asked for).
    loads: watch::Receiver<u64>,
    _tasks: Arc<Tasks>,
}

struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl ThreatIntelFeeds {
    /// Starts one refresh task per configured feed (none when there are no feeds). Last
    /// good copies live under `copies` (`None`: kept nowhere).
    pub fn start(
        config: &ThreatIntelConfig,
        copies: Option<PathBuf>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let intel = Arc::new(ThreatIntel::new());
        let policy = UrlPolicy {
            allow: config.allowed_networks(),
            allow_http: config.allow_http,
        };
        let mut now = Vec::with_capacity(config.feeds.len());
        let (loaded, loads) = watch::channel(0u64);
        let tasks = config
            .feeds
            .iter()
            .map(|feed| {
                // One pending request is enough: a second one waits its turn.
                let (tx, requests) = mpsc::channel(1);
                now.push(tx);
                let runner = FeedRunner {
                    requests,
                    loaded: loaded.clone(),
                    copy: copies
                        .as_ref()
                        .map(|dir| dir.join(format!("{}.feed", feed.name))),
                    feed: feed.clone(),
                    policy: policy.clone(),
                    intel: intel.clone(),
                    metrics: metrics.clone(),
                    in_force: None,
                };
                tokio::spawn(runner.run())
            })
            .collect();
        ThreatIntelFeeds {
            intel,
            now: now.into(),
            loads,
            _tasks: Arc::new(Tasks(tasks)),
        }
    }

    /// The number of loads finished so far (by every feed), to wait on.
    pub fn loads(&self) -> watch::Receiver<u64> {
        self.loads.clone()
    }

    /// Loads every feed now (after the load at start, which is never skipped) and returns
    /// each feed's name and outcome once all are done; the schedule goes on from there.
    pub async fn refresh_now(&self) -> Vec<(String, Outcome)> {
        let mut waiting = Vec::with_capacity(self.now.len());
        for feed in self.now.iter() {
            let (tx, rx) = oneshot::channel();
            if feed.send(tx).await.is_ok() {
                waiting.push(rx);
            }
        }
        let mut outcomes = Vec::with_capacity(waiting.len());
        for rx in waiting {
            if let Ok(outcome) = rx.await {
                outcomes.push(outcome);
            }
        }
        outcomes
    }

    /// The sets in force.
    pub fn intel(&self) -> &Arc<ThreatIntel> {
        &self.intel
    }
}

/// How a load ended (the `outcome` label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new set is in force, with this many entries.
    Updated(usize),
    /// The source holds what is already in force.
    Unchanged,
    FetchFailed(String),
    VerifyFailed(String),
    ParseFailed(String),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Updated(_) => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::FetchFailed(_) => "fetch_failed",
            Outcome::VerifyFailed(_) => "verify_failed",
            Outcome::ParseFailed(_) => "parse_failed",
        }
    }
}

struct FeedRunner {
    requests: mpsc::Receiver<LoadRequest>,
    loaded: watch::Sender<u64>,
    feed: FeedConfig,
    policy: UrlPolicy,
    intel: Arc<ThreatIntel>,
    metrics: Arc<Metrics>,
    copy: Option<PathBuf>,
    /// SHA-256 of the bytes in force.
    in_force: Option<String>,
}

impl FeedRunner {
    async fn run(mut self) {
        self.restore().await;
        let mut waiting: Option<LoadRequest> = None;
        loop {
            let outcome = self.refresh().await;
            self.record(&outcome);
            self.loaded.send_modify(|n| *n += 1);
            if let Some(reply) = waiting.take() {
                let _ = reply.send((self.feed.name.clone(), outcome));
            }
            tokio::select! {
                () = tokio::time::sleep(self.feed.refresh) => {}
                Some(reply) = self.requests.recv() => waiting = Some(reply),
            }
        }
    }

    /// Puts the last good copy on disk in force, if there is one.
    async fn restore(&mut self) {
        let Some(path) = self.copy.clone() else {
            return;
        };
        let Ok(bytes) = tokio::fs::read(&path).await else {
            return;
        };
        match self.compile(bytes::Bytes::from(bytes)).await {
            Ok(entries) => {
                tracing::info!(feed = %self.feed.name, entries, "threat-intel feed: last good copy in force");
                self.metrics
                    .threat_intel()
                    .refresh(&self.feed.name, "restored");
            }
            Err(e) => {
                tracing::warn!(feed = %self.feed.name, error = %e, "threat-intel feed: the copy on disk does not parse; ignored");
            }
        }
    }

    /// One load: fetch, verify, compile, swap, keep a copy.
    async fn refresh(&mut self) -> Outcome {
        let content = match fetch::load(&self.feed.source, self.feed.max_bytes, &self.policy).await
        {
            Ok(bytes) => bytes,
            Err(e) => return Outcome::FetchFailed(e),
        };
        if let Err(e) = self.verify(&content).await {
            return Outcome::VerifyFailed(e);
        }
        let digest = verify::sha256_hex(&content);
        if self.in_force.as_deref() == Some(digest.as_str()) {
            return Outcome::Unchanged;
        }
        match self.compile(content.clone()).await {
            Ok(entries) => {
                if let Some(path) = &self.copy
                    && let Err(e) = keep_copy(path, &content).await
                {
                    tracing::warn!(feed = %self.feed.name, error = %e, "threat-intel feed: the last good copy could not be written");
                }
                Outcome::Updated(entries)
            }
            Err(e) => Outcome::ParseFailed(e),
        }
    }

    async fn verify(&self, content: &[u8]) -> Result<(), String> {
        verify::check_pin(content, self.feed.sha256.as_deref())?;
        if let Some(key) = &self.feed.public_key {
            let signature = fetch::load(
                &self.feed.signature_location(),
                verify::MAX_SIGNATURE_BYTES,
                &self.policy,
            )
            .await
            .map_err(|e| format!("signature: {e}"))?;
            verify::check_signature(content, &signature, key)?;
        }
        Ok(())
    }

    /// Parses and compiles on a blocking thread, then swaps the set in; the entries count.
    async fn compile(&mut self, content: bytes::Bytes) -> Result<usize, String> {
        let feed = self.feed.clone();
        let digest = verify::sha256_hex(&content);
        let compiled = tokio::task::spawn_blocking(move || {
            let entries = parse_entries(
                feed.kind,
                &feed.format(),
                &content,
                std::time::SystemTime::now(),
            )
            .map_err(|e| e.to_string())?;
            CompiledFeed::compile(&feed.name, feed.kind, feed.action, &entries)
        })
        .await
        .map_err(|_| "the parser stopped".to_owned())??;
        let entries = compiled.entries;
        self.intel.install(compiled);
        self.in_force = Some(digest);
        self.metrics
            .threat_intel()
            .entries(&self.feed.name, entries);
        Ok(entries)
    }

    fn record(&self, outcome: &Outcome) {
        let name = &self.feed.name;
        self.metrics.threat_intel().refresh(name, outcome.label());
        match outcome {
            Outcome::Updated(entries) => {
                tracing::info!(feed = %name, entries, "threat-intel feed updated");
            }
            Outcome::Unchanged => tracing::debug!(feed = %name, "threat-intel feed unchanged"),
            Outcome::FetchFailed(e) | Outcome::VerifyFailed(e) | Outcome::ParseFailed(e) => {
                tracing::warn!(feed = %name, outcome = outcome.label(), error = %e, "threat-intel feed not updated; the set in force is kept");
            }
        }
    }
}

/// Writes `content` to `path` through a temporary file and a rename (a crash leaves the
/// old copy or the new one, never half of one).
async fn keep_copy(path: &Path, content: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = path.with_extension("feed.tmp");
    tokio::fs::write(&tmp, content).await?;
    tokio::fs::rename(&tmp, path).await
}

#[cfg(test)]
mod tests;
