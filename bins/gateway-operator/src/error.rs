//! The operator's error: what failed in one reconciliation (the controller logs it and
//! retries after a delay).

use crate::admin::AdminError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The resource cannot be reconciled as written (reported in its status).
    #[error("{0}")]
    Invalid(String),
    #[error("finalizer: {0}")]
    Finalizer(String),
}

impl Error {
    /// The reason in a status condition.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Kube(_) => "KubernetesApiError",
            Error::Admin(AdminError::Refused { .. }) => "GatewayRefused",
            Error::Admin(_) => "GatewayUnavailable",
            Error::Invalid(_) => "InvalidSpec",
            Error::Finalizer(_) => "FinalizerFailed",
        }
    }
}
