//! Errors of running the application (not of serving a request: those are `GatewayError`s).

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigErrors),
    #[error("startup failed: {0}")]
    Startup(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}
