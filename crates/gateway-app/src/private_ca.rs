//! `[providers.NAME] ca_file`: an upstream client that trusts the certificate authorities of
//! a PEM file instead of the web PKI.

use std::path::Path;
use std::time::Duration;

use gateway_providers::HttpClient;

use crate::error::AppError;

/// A client for provider `provider` trusting only the CAs in `ca_file`. Every problem names
/// the setting: an unreadable file, no certificate in it, a certificate that is not a usable
/// trust anchor.
pub(crate) fn client_trusting(
    provider: &str,
    ca_file: &Path,
    connect_timeout: Duration,
) -> Result<HttpClient, AppError> {
    let problem = |what: String| AppError::Startup(format!("providers.{provider}.ca_file: {what}"));
    let certs = crate::server::tls::pem_certificates(ca_file).map_err(problem)?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| problem(format!("not a usable CA certificate: {e}")))?;
    }
    HttpClient::with_root_certificates(connect_timeout, roots).map_err(|e| problem(e.to_string()))
}
