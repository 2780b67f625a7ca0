//! `[providers.NAME] ca_file`: an upstream client that trusts the certificate authorities of
//! a PEM file instead of the web PKI.

use std::path::Path;
use std::time::Duration;

use gateway_providers::HttpClient;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::AppError;

/// A client for provider `provider` trusting only the CAs in `ca_file`. Every problem names
/// the provider and the file: an unreadable file, no certificate in it, a certificate that
/// is not a usable trust anchor.
pub(crate) fn client_trusting(
    provider: &str,
    ca_file: &Path,
    connect_timeout: Duration,
) -> Result<HttpClient, AppError> {
    let problem = |what: String| {
        AppError::Startup(format!(
            "providers.{provider}.ca_file ({}): {what}",
            ca_file.display()
        ))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| problem(format!("cannot read it: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| problem(format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(problem("holds no certificate".to_owned()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| problem(format!("not a usable CA certificate: {e}")))?;
    }
    HttpClient::with_root_certificates(connect_timeout, roots).map_err(|e| problem(e.to_string()))
}
