//! The secrets of a configuration that no log line may show, registered with
//! [`gateway_core::secret_mask`] (every log line, every upstream message shown to a caller) at startup and again on every reload: provider API keys
//! and their credential-like extra headers, the admin token, the key-hash pepper, JWT HMAC
//! secrets, the moderation API key, the S3 credentials of `[files.s3]`, and the passwords inside the Redis and database URLs.
//! Caller credentials need no registration: the log mask knows their shape.

use crate::config::Config;

/// Extra provider headers whose values are credentials (matched in lower case).
const CREDENTIAL_HEADER_WORDS: [&str; 5] = ["auth", "key", "token", "secret", "cookie"];

/// Registers every secret of `config` with the log mask.
pub fn register(config: &Config) {
    gateway_core::secret_mask::set_known_secrets(secrets(config));
}

/// Every secret value in `config` (unmasked: handle with care).
pub fn secrets(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for provider in config.providers.values() {
        if let Some(key) = &provider.api_key {
            out.push(key.expose().clone());
        }
        for (name, value) in &provider.headers {
            let name = name.to_ascii_lowercase();
            if CREDENTIAL_HEADER_WORDS.iter().any(|w| name.contains(w)) {
                out.push(value.clone());
                // `Authorization: Bearer X`: X alone may be echoed too.
                if let Some((_, token)) = value.split_once(' ') {
                    out.push(token.trim().to_owned());
                }
            }
        }
    }
    if let Some(token) = &config.admin.token {
        out.push(token.expose().clone());
    }
    if let Some(pepper) = &config.auth.pepper {
        out.push(pepper.expose().clone());
    }
    if let Some(key) = &config.backup.key {
        out.push(key.expose().clone());
    }
    for issuer in &config.auth.jwt_issuers {
        for key in &issuer.keys {
            if let Some(secret) = &key.secret {
                out.push(secret.expose().clone());
            }
        }
    }
    if let Some(api) = &config.guardrails.moderation_api
        && let Some(key) = &api.api_key
    {
        out.push(key.expose().clone());
    }
    if let Some(s3) = &config.files.s3 {
        out.push(s3.access_key_id.expose().clone());
        out.push(s3.secret_access_key.expose().clone());
    }
    let urls = [
        config.cache.redis_url.as_deref(),
        Some(config.limits.redis.url.as_str()),
        config.store.database_url.as_deref(),
    ];
    out.extend(urls.into_iter().flatten().filter_map(url_password));
    out
}

/// The password of `scheme://user:password@host/...`, if any.
fn url_password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then(|| password.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_come_out_of_urls() {
        assert_eq!(
            url_password("redis://:s3cret-pass@127.0.0.1:6379/0").as_deref(),
            Some("s3cret-pass")
        );
        assert_eq!(
            url_password("postgres://gw:pa55word@db/gw?sslmode=require").as_deref(),
            Some("pa55word")
        );
        assert_eq!(url_password("redis://127.0.0.1:6379"), None);
        assert_eq!(url_password("postgres://gw@db/gw"), None);
        assert_eq!(url_password("not a url"), None);
    }

    #[test]
    fn provider_keys_and_credential_headers_are_secrets() {
        let config = Config::from_toml_str(
            r#"
            [admin]
            token = "admin-token-0123456789"
            [providers.a]
            kind = "openai"
            api_key = "sk-provider-key-0123456789"
            headers = { "x-org" = "visible-org", "Authorization" = "Bearer header-token-0123" }
            "#,
            &|_| None,
            std::iter::empty(),
        )
        .unwrap();
        let secrets = secrets(&config);
        for want in [
            "admin-token-0123456789",
            "sk-provider-key-0123456789",
            "Bearer header-token-0123",
            "header-token-0123",
        ] {
            assert!(secrets.iter().any(|s| s == want), "{want} in {secrets:?}");
        }
        assert!(!secrets.iter().any(|s| s == "visible-org"));
    }
}
