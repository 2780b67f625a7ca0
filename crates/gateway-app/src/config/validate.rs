//! Semantic checks over a typed configuration.

use super::{Config, Problem};

pub fn validate(config: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    let s = &config.server;
    if s.max_body_bytes == 0 {
        problems.push(Problem::new(
            "server.max_body_bytes",
            "must be greater than 0",
        ));
    }
    if s.max_header_bytes < 8192 {
        problems.push(Problem::new(
            "server.max_header_bytes",
            "must be at least 8192",
        ));
    }
    for (key, value) in [
        ("server.header_timeout_secs", s.header_timeout_secs),
        ("server.body_timeout_secs", s.body_timeout_secs),
        ("server.request_timeout_secs", s.request_timeout_secs),
    ] {
        if value == 0 {
            problems.push(Problem::new(key, "must be greater than 0"));
        }
    }
    if let Some(tls) = &s.tls {
        for (key, path) in [
            ("server.tls.cert_file", &tls.cert_file),
            ("server.tls.key_file", &tls.key_file),
        ] {
            if !path.is_file() {
                problems.push(Problem::new(
                    key,
                    format!("file {} does not exist", path.display()),
                ));
            }
        }
    }
    if let Err(e) = config
        .logging
        .level
        .parse::<tracing_subscriber::EnvFilter>()
    {
        problems.push(Problem::new(
            "logging.level",
            format!("not a valid filter: {e}"),
        ));
    }
    for (name, p) in &config.providers {
        let path = format!("providers.{name}");
        match p.base_url.parse::<http::Uri>() {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => {}
            _ => problems.push(Problem::new(
                &format!("{path}.base_url"),
                "must be an http:// or https:// URL",
            )),
        }
        if p.connect_timeout_ms == 0 || p.first_byte_timeout_secs == 0 || p.total_timeout_secs == 0
        {
            problems.push(Problem::new(&path, "timeouts must be greater than 0"));
        }
        if let Some(key) = &p.api_key
            && (key.expose().is_empty() || key.expose().contains(['\r', '\n']))
        {
            problems.push(Problem::new(
                &format!("{path}.api_key"),
                "must be a non-empty single line",
            ));
        }
        for header in p.headers.keys() {
            if http::HeaderName::try_from(header.as_str()).is_err() {
                problems.push(Problem::new(
                    &format!("{path}.headers.{header}"),
                    "is not a valid header name",
                ));
            }
        }
    }
    for (name, m) in &config.models {
        if !config.providers.contains_key(&m.provider) {
            problems.push(Problem::new(
                &format!("models.{name}.provider"),
                format!(
                    "unknown provider '{}' (define it under [providers.{}])",
                    m.provider, m.provider
                ),
            ));
        }
        if m.upstream_model.trim().is_empty() {
            problems.push(Problem::new(
                &format!("models.{name}.upstream_model"),
                "must not be empty",
            ));
        }
    }
    problems
}
