//! `gateway-store`: persistence for LLM Secure Gateway — tenants, API keys (hashed), usage
//! records, the hash-chained audit log, stored Responses API answers, the metadata of
//! files, the durable state of batches (leased lines), webhook endpoints with their outbox of
//! deliveries, asynchronous calls, and versioned prompt templates — over SQLite (the embedded default: one file under the
//! data directory, WAL mode) or PostgreSQL (for several gateway instances).
//!
//! It implements the traits of `gateway_core::store` ([`Store`] and its parts) and owns the
//! schema and its migrations (`migrations/{sqlite,postgres}`). It depends on `gateway-core`
//! only among the gateway crates: no HTTP, no authentication logic, no knowledge of the
//! pipeline. Secrets never reach it; keys arrive already hashed.
//!
//! Backups (module [`backup`]): [`SqlStore::create_backup`] writes a consistent online snapshot of
//! every table as one encrypted archive, [`backup::verify_backup`] checks one without a
//! database, [`SqlStore::restore_backup`] restores it into an empty store.
//!
//! Entry points: [`SqlStore::connect`] (a `sqlite://...` or `postgres://...` URL) or
//! [`SqlStore::from_config`] with the `[store]` section ([`StoreConfig`]); then use it as an
//! `Arc<dyn Store>`. The edge profile's [`SignedFileStore`] (module [`signed_file`]) serves
//! tenants and keys from an Ed25519-signed file instead, read-only, without a database.
//!
//! [`Store`]: gateway_core::store::Store

mod anomalies;
mod async_jobs;
mod audit;
pub mod backup;
mod bandit;
mod batch_items;
mod batches;
mod chain;
mod change_feed;
mod config;
mod connect;
pub mod encryption;
pub mod error;
mod feedback;
mod files;
mod keys;
mod pool;
mod responses;
mod rows;
pub mod signed_file;
mod templates;
mod tenants;
mod usage;
mod usage_minutes;
mod webhooks;

pub use backup::{BackupError, BackupKey, Manifest, RestoreOptions, RestoreReport};
pub use chain::{ChainFields, GENESIS_HASH, chain_hash};
pub use change_feed::PgChangeFeed;
pub use config::{StoreConfig, StoreOptions};
pub use connect::SqlStore;
pub use encryption::{KeyStatus, Keyring, LocalKek, ReencryptReport, RewrapReport};
pub use error::StoreError;
pub use signed_file::{SignedFileConfig, SignedFileStore};
