//! Bearer JWTs and the JWKS documents their keys come from. The first byte picks the mode:
//! a raw token; claims (JSON) signed with the issuer's HS256 key, so that the claim mapping
//! sees arbitrary claims behind a valid signature; or a JWKS document served for the issuer
//! of an RS256 token.
#![no_main]

use std::sync::{Arc, OnceLock};

use gateway_auth::{AuthError, JwksFetcher, JwtAuthenticator, JwtIssuerConfig};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const ISSUER: &str = "https://idp.test/";
const SECRET: &str = "fuzz-only-hs256-secret-at-least-32-bytes";
const JWKS_ISSUER: &str = "https://jwks.test/";

/// Serves one fixed document for every URL.
struct Serve(String);

#[async_trait::async_trait]
impl JwksFetcher for Serve {
    async fn fetch(&self, _url: &str) -> Result<String, AuthError> {
        Ok(self.0.clone())
    }
}

fn issuer(value: serde_json::Value) -> Option<JwtIssuerConfig> {
    serde_json::from_value(value).ok()
}

fn inline_verifier() -> Option<&'static JwtAuthenticator> {
    static VERIFIER: OnceLock<Option<JwtAuthenticator>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let config = issuer(json!({
                "issuer": ISSUER,
                "audiences": ["llm-gateway"],
                "algorithms": ["HS256"],
                "keys": [{"kid": "k1", "algorithm": "HS256", "secret": SECRET}],
            }))?;
            JwtAuthenticator::new(&[config], Arc::new(Serve(String::new()))).ok()
        })
        .as_ref()
}

/// A current-thread runtime (the JWKS fetch runs under a tokio timeout).
fn runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .ok()
        })
        .as_ref()
}

fn verify(verifier: &JwtAuthenticator, token: &str) {
    if let Some(runtime) = runtime() {
        let _ = runtime.block_on(verifier.verify(token));
    }
}

fn with_jwks(document: &str) {
    let Some(config) = issuer(json!({
        "issuer": JWKS_ISSUER,
        "audiences": ["llm-gateway"],
        "algorithms": ["RS256", "ES256", "EdDSA"],
        "jwks_url": "http://127.0.0.1:1/jwks",
    })) else {
        return;
    };
    let Ok(verifier) = JwtAuthenticator::new(&[config], Arc::new(Serve(document.to_owned())))
    else {
        return;
    };
    // The signature is never right: the document is fetched and parsed before it is checked.
    for kid in ["k1", ""] {
        let header = format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}"}}"#);
        let claims = format!(r#"{{"iss":"{JWKS_ISSUER}","aud":"llm-gateway"}}"#);
        let token = format!("{}.{}.AAAA", b64(&header), b64(&claims));
        verify(&verifier, &token);
    }
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fuzz_target!(|input: &[u8]| {
    let [mode, rest @ ..] = input else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Some(verifier) = inline_verifier() else {
        return;
    };
    match mode % 3 {
        0 => verify(verifier, text),
        1 => {
            let Ok(claims) = serde_json::from_str::<serde_json::Value>(text) else {
                return;
            };
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("k1".to_owned());
            let key = EncodingKey::from_secret(SECRET.as_bytes());
            if let Ok(token) = jsonwebtoken::encode(&header, &claims, &key) {
                verify(verifier, &token);
            }
        }
        _ => with_jwks(text),
    }
});
