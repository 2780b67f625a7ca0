//! Errors of running the application (not of serving a request: those are `GatewayError`s).
//!
//! A startup failure names the part that failed and keeps the underlying error as its
//! [`std::error::Error::source`], so [`chain`] prints the whole story and callers can still
//! inspect the cause.

use std::error::Error;
use std::fmt::Write;

/// The underlying cause of a startup failure.
pub type Cause = Box<dyn Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigErrors),
    /// A startup failure with no underlying error (a missing piece, a bad combination).
    #[error("startup failed: {0}")]
    Startup(String),
    /// A part of the gateway (`part`: store, auth, a provider...) could not be built.
    #[error("startup failed: {part}")]
    StartupCaused {
        part: String,
        #[source]
        source: Cause,
    },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("TLS setup failed: {part}")]
    TlsCaused {
        part: String,
        #[source]
        source: Cause,
    },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl AppError {
    /// `part` could not be built because of `source`.
    pub fn startup(part: impl Into<String>, source: impl Into<Cause>) -> Self {
        AppError::StartupCaused {
            part: part.into(),
            source: source.into(),
        }
    }

    /// TLS setup failed at `part` because of `source`.
    pub fn tls(part: impl Into<String>, source: impl Into<Cause>) -> Self {
        AppError::TlsCaused {
            part: part.into(),
            source: source.into(),
        }
    }
}

/// `err` and each of its sources, joined with `": "` — what an operator reads. A source whose
/// text its parent already shows is not repeated.
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(source) = next {
        let part = source.to_string();
        if !text.contains(&part) {
            let _ = write!(text, ": {part}");
        }
        next = source.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("pool timed out")]
    struct Pool;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot connect")]
    struct Connect(#[source] Pool);

    #[test]
    fn startup_errors_keep_their_source_and_print_the_chain() {
        let err = AppError::startup("store", Connect(Pool));
        let source = err.source().map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("cannot connect"));
        assert_eq!(
            chain(&err),
            "startup failed: store: cannot connect: pool timed out"
        );
    }

    #[test]
    fn a_source_already_in_the_message_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot connect: {0}")]
        struct Wrapping(#[source] Pool);
        let err = AppError::tls("private key", Wrapping(Pool));
        assert_eq!(
            chain(&err),
            "TLS setup failed: private key: cannot connect: pool timed out"
        );
    }
}
