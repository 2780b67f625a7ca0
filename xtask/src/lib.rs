//! Repository automation for the LLM Secure Gateway workspace: the code behind
//! `cargo xtask tidy | test | bench | pgo | soak | chaos | fuzz | tutorials | openapi |
//! schemathesis`.
//!
//! It owns the workspace's structural rules ([`tidy`]), the one test command of the
//! README ([`testcmd`]), the load benchmark ([`bench`]), the profile-guided release build
//! ([`bench::pgo`]), the memory soak ([`soak`]), the fault suite ([`chaos`]), the fuzzing
//! of every parser of outside input ([`fuzz`]), the compatibility suite ([`compat`]), the
//! SDK suites ([`sdk_java`], [`sdk_python`], [`sdk_typescript`]), the executed tutorials
//! ([`tutorials`]), the web console's browser tests ([`browser`]), the OpenAPI document
//! ([`openapi`]) and the API fuzzing against it ([`schemathesis`]). It depends on no gateway crate: it drives the built binaries as a user
//! would. Entry points are the `run` functions of each module; `main.rs` only parses the
//! command line.

pub mod bench;
pub mod browser;
pub mod chaos;
pub mod compat;
pub mod fuzz;
pub mod openapi;
pub mod schemathesis;
pub mod sdk_java;
pub mod sdk_python;
pub mod sdk_typescript;
pub mod soak;
pub mod testcmd;
pub mod tidy;
pub mod tutorials;
pub mod util;

/// The error type of every xtask command: a message meant for the developer.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Result alias used throughout xtask.
pub type Result<T> = std::result::Result<T, Error>;
