//! TLS from PEM files, with ALPN for HTTP/2 and HTTP/1.1, and optionally mutual TLS: client
//! certificates verified against a configured CA (`[server.tls] client_ca_file`).

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig as RustlsConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsConfig;
use crate::error::AppError;

/// The certificates of a PEM file, at least one; the error says what is wrong with the file
/// (the caller names the setting).
pub(crate) fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("cannot read certificates from {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", path.display()));
    }
    Ok(certs)
}

/// Mutual TLS: the verifier of client certificates issued by the CAs of `ca_file` (webpki:
/// chain, validity, key usage clientAuth).
fn client_verifier(
    ca_file: &Path,
    optional: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, AppError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in pem_certificates(ca_file)
        .map_err(|e| AppError::Tls(format!("server.tls.client_ca_file: {e}")))?
    {
        roots.add(cert).map_err(|e| {
            AppError::tls("server.tls.client_ca_file: not a usable CA certificate", e)
        })?;
    }
    let builder =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = if optional {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    builder
        .build()
        .map_err(|e| AppError::tls("server.tls.client_ca_file", e))
}

pub fn load_tls(config: &TlsConfig) -> Result<TlsAcceptor, AppError> {
    let certs = pem_certificates(&config.cert_file).map_err(AppError::Tls)?;
    let key = PrivateKeyDer::from_pem_file(&config.key_file).map_err(|e| {
        AppError::tls(
            format!("cannot read private key from {}", config.key_file.display()),
            e,
        )
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = RustlsConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| AppError::tls("protocol versions", e))?;
    let builder = match &config.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca_file) => builder.with_client_cert_verifier(client_verifier(
            ca_file,
            config.client_auth_optional,
            provider,
        )?),
    };
    let mut tls = builder
        .with_single_cert(certs, key)
        .map_err(|e| AppError::tls("certificate and key do not form a valid pair", e))?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(tls)))
}
