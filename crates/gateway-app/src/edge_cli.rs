//! `llm-gateway edge ...`: the offline half of the edge profile (the binary parses the
//! command line; this does the work, with the gateway's own key hashing and file format). `keygen` makes the Ed25519
//! signing key (kept by the operator) and prints the public key for `[store.signed_file]`;
//! `new-key` issues an API key, printing its secret once and the entry (with the hash, under
//! the gateway's pepper) to paste into the tenants source; `sign` checks the source (TOML) and
//! writes the signed file; `verify` checks a signed file as the gateway will.

use std::io::Write;
use std::path::Path;

use gateway_auth::ApiKeys;
use gateway_core::Secret;
use gateway_store::signed_file::{EdgeDocument, PublicKey, SigningKey, verify};

/// Why an edge command failed.
#[derive(Debug, thiserror::Error)]
pub enum EdgeCommandError {
    /// Bad input (a source the gateway would refuse, a malformed public key): exit 2.
    #[error("{0}")]
    Usage(String),
    /// Anything else (files, crypto): exit 1.
    #[error("{0}")]
    Failed(String),
}

impl EdgeCommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            EdgeCommandError::Usage(_) => 2,
            EdgeCommandError::Failed(_) => 1,
        }
    }
}

fn failed(what: impl std::fmt::Display) -> EdgeCommandError {
    EdgeCommandError::Failed(what.to_string())
}

pub fn keygen(out: &Path) -> Result<String, EdgeCommandError> {
    let key = SigningKey::generate().map_err(failed)?;
    let pem = key.to_pem().map_err(failed)?;
    write_new_private(out, pem.as_bytes())?;
    Ok(format!(
        "signing key written to {} (keep it off the gateway)\npublic key (store.signed_file.public_key): {}",
        out.display(),
        key.public_key().to_base64()
    ))
}

/// Creates `path` readable by its owner only; never overwrites a key.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), EdgeCommandError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| failed(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(bytes)
        .map_err(|e| failed(format!("cannot write {}: {e}", path.display())))
}

pub fn new_key(tenant: &str, id: &str, pepper_env: &str) -> Result<String, EdgeCommandError> {
    let pepper = std::env::var(pepper_env).ok().filter(|p| !p.is_empty());
    if pepper.is_none() {
        eprintln!(
            "gatewayctl: warning: {pepper_env} is not set; the hash is unpeppered and matches only a gateway without auth.pepper"
        );
    }
    let pepper = pepper.map(Secret::new);
    let key = ApiKeys::new(pepper.as_ref()).generate();
    Ok(format!(
        "# secret for tenant {tenant} (shown once; give it to the key's owner): {}\n\
         # add under the tenant's [[tenants]] entry, then `llm-gateway edge sign`:\n\
         [[tenants.keys]]\nid = \"{id}\"\nprefix = \"{}\"\nhash = \"{}\"\nroles = [\"developer\"]",
        key.secret.expose(),
        key.display_prefix,
        key.hash.to_hex()
    ))
}

pub fn sign(key: &Path, input: &Path, out: &Path) -> Result<String, EdgeCommandError> {
    let pem = std::fs::read_to_string(key)
        .map_err(|e| failed(format!("cannot read {}: {e}", key.display())))?;
    let key = SigningKey::from_pem(&pem).map_err(failed)?;
    let text = std::fs::read_to_string(input)
        .map_err(|e| failed(format!("cannot read {}: {e}", input.display())))?;
    let document: EdgeDocument = toml::from_str(&text)
        .map_err(|e| EdgeCommandError::Usage(format!("{}: {e}", input.display())))?;
    document
        .check()
        .map_err(|e| EdgeCommandError::Usage(format!("{}: {e}", input.display())))?;
    let signed = key.sign(&document).map_err(failed)?;
    // Written beside the target and renamed, so a gateway reloading meanwhile never reads half.
    let partial = out.with_extension("partial");
    std::fs::write(&partial, signed)
        .and_then(|()| std::fs::rename(&partial, out))
        .map_err(|e| failed(format!("cannot write {}: {e}", out.display())))?;
    Ok(format!(
        "signed {} (serial {}, {} tenant(s), {} key(s)); send the gateways SIGHUP to load it",
        out.display(),
        document.serial,
        document.tenants.len(),
        document.key_count()
    ))
}

pub fn verify_file(public_key: &str, file: &Path) -> Result<String, EdgeCommandError> {
    let key =
        PublicKey::from_base64(public_key).map_err(|e| EdgeCommandError::Usage(e.to_string()))?;
    let bytes =
        std::fs::read(file).map_err(|e| failed(format!("cannot read {}: {e}", file.display())))?;
    let document = verify(&bytes, &key).map_err(failed)?;
    document.check().map_err(failed)?;
    Ok(format!(
        "{}: signature valid, serial {}, {} tenant(s), {} key(s)",
        file.display(),
        document.serial,
        document.tenants.len(),
        document.key_count()
    ))
}
