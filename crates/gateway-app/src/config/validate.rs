//! Semantic checks over a typed configuration.

use super::{Config, Problem};

/// More connection threads than this is a typo, not a machine.
const MAX_WORKERS: usize = 1024;
/// A smaller line cap would refuse ordinary answers (one chunk of a few KiB).
const MIN_SSE_LINE_BYTES: usize = 4096;
/// Fewer spare descriptors than this cannot even hold the store, the log and one upstream call.
const MIN_RESERVED_DESCRIPTORS: usize = 16;
/// Built-in kinds that are not OpenAI-compatible (`passthrough_params` means nothing there:
/// Anthropic and Gemini take `top_k` natively, Azure OpenAI refuses it like OpenAI).
const BUILTIN_NOT_OPENAI: [&str; 5] = ["anthropic", "gemini", "azure", "bedrock", "vertex"];

pub fn validate(config: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(routing) = &config.prompt_routing
        && let Err(found) = routing.compile("prompt_routing", &|m| config.models.contains_key(m))
    {
        problems.extend(
            found
                .iter()
                .map(|(path, message)| Problem::new(path, message.as_str())),
        );
    }
    let s = &config.server;
    config.files.validate(&mut problems);
    config.encryption.validate(&mut problems);
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
        (
            "server.tls_handshake_timeout_secs",
            s.tls_handshake_timeout_secs,
        ),
        ("server.idle_timeout_secs", s.idle_timeout_secs),
        (
            "server.h2_keep_alive_interval_secs",
            s.h2_keep_alive_interval_secs,
        ),
        (
            "server.h2_keep_alive_timeout_secs",
            s.h2_keep_alive_timeout_secs,
        ),
    ] {
        if value == 0 {
            problems.push(Problem::new(key, "must be greater than 0"));
        }
    }
    if s.reserved_descriptors < MIN_RESERVED_DESCRIPTORS {
        problems.push(Problem::new(
            "server.reserved_descriptors",
            format!("must be at least {MIN_RESERVED_DESCRIPTORS}"),
        ));
    }
    if let Err(e) = gateway_core::client_address::TrustedProxies::parse(&s.trusted_proxies) {
        problems.push(Problem::new("server.trusted_proxies", e));
    }
    if s.workers > MAX_WORKERS {
        problems.push(Problem::new(
            "server.workers",
            format!("must be at most {MAX_WORKERS} (0: one per CPU core)"),
        ));
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
        if let Some(ca) = &tls.client_ca_file
            && !ca.is_file()
        {
            problems.push(Problem::new(
                "server.tls.client_ca_file",
                format!("file {} does not exist", ca.display()),
            ));
        }
        if tls.client_auth_optional && tls.client_ca_file.is_none() {
            problems.push(Problem::new(
                "server.tls.client_auth_optional",
                "needs server.tls.client_ca_file",
            ));
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
    let kinds = gateway_providers::factory::registry();
    for (name, p) in &config.providers {
        let path = format!("providers.{name}");
        let factory = kinds.get(&p.kind);
        if factory.is_none() {
            let known: Vec<&str> = kinds.kinds().collect();
            problems.push(Problem::new(
                &path,
                format!("unknown kind '{}' (known: {})", p.kind, known.join(", ")),
            ));
        }
        let default_base_url = factory.and_then(|f| f.default_base_url());
        match (p.base_url.as_deref(), default_base_url) {
            (None, None) if factory.is_none() => {}
            (None, None) => problems.push(Problem::new(
                &format!("{path}.base_url"),
                "is required for this kind",
            )),
            (None, Some(_)) => {}
            (Some(url), _) => match url.parse::<http::Uri>() {
                Ok(uri)
                    if matches!(uri.scheme_str(), Some("http" | "https"))
                        && uri.host().is_some() => {}
                _ => problems.push(Problem::new(
                    &format!("{path}.base_url"),
                    "must be an http:// or https:// URL",
                )),
            },
        }
        if p.connect_timeout_ms == 0
            || p.first_byte_timeout_secs == 0
            || p.total_timeout_secs == 0
            || p.max_stream_secs == 0
        {
            problems.push(Problem::new(&path, "timeouts must be greater than 0"));
        }
        if let Some(file) = &p.service_account_file
            && !file.is_file()
        {
            problems.push(Problem::new(
                &format!("{path}.service_account_file"),
                format!("file {} does not exist", file.display()),
            ));
        }
        if p.aws_access_key_id.is_some() != p.aws_secret_access_key.is_some() {
            problems.push(Problem::new(
                &path,
                "aws_access_key_id and aws_secret_access_key go together",
            ));
        }
        if !p.passthrough_params.is_empty() {
            let problem = if BUILTIN_NOT_OPENAI.contains(&p.kind.as_str()) {
                Some(format!(
                    "applies to OpenAI-compatible upstreams (kind \"openai\"), not to kind '{}'",
                    p.kind
                ))
            } else {
                gateway_providers::openai::Passthrough::new(&p.passthrough_params).err()
            };
            if let Some(problem) = problem {
                problems.push(Problem::new(&format!("{path}.passthrough_params"), problem));
            }
        }
        if p.max_sse_line_bytes < MIN_SSE_LINE_BYTES {
            problems.push(Problem::new(
                &format!("{path}.max_sse_line_bytes"),
                format!("must be at least {MIN_SSE_LINE_BYTES}"),
            ));
        }
        if let Some(key) = &p.api_key
            && (key.expose().is_empty() || key.expose().contains(['\r', '\n']))
        {
            problems.push(Problem::new(
                &format!("{path}.api_key"),
                "must be a non-empty single line",
            ));
        }
        if let Some(ca_file) = &p.ca_file {
            let https = p
                .base_url
                .as_deref()
                .or(default_base_url)
                .is_some_and(|url| url.starts_with("https://"));
            if !https {
                problems.push(Problem::new(
                    &format!("{path}.ca_file"),
                    "needs an https:// base_url",
                ));
            } else if !ca_file.is_file() {
                problems.push(Problem::new(
                    &format!("{path}.ca_file"),
                    format!("file {} does not exist", ca_file.display()),
                ));
            }
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
        validate_model(config, name, m, &mut problems);
    }
    for (path, message) in config.guardrails.validate() {
        problems.push(Problem::new(&path, message));
    }
    for (path, message) in config.policies.validate() {
        problems.push(Problem::new(&path, message));
    }

    if let Some(model) = &config.query.model
        && !config.models.contains_key(model)
    {
        problems.push(Problem::new(
            "query.model",
            format!("unknown model '{model}' (define it under [models])"),
        ));
    }
    config.responses.validate(&mut problems);
    config.batches.validate(&mut problems);
    config.async_calls.validate(&mut problems);
    config
        .quality
        .validate(&|m| config.models.contains_key(m), &mut problems);
    config.webhooks.validate(&mut problems);
    config
        .backup
        .validate(config.store.signed_file.is_some(), &mut problems);
    config.threat_intel.validate(&mut problems);
    problems.extend(
        config
            .anomaly
            .problems()
            .into_iter()
            .map(|(path, message)| Problem::new(&path, message)),
    );
    for (path, message) in config.limits.problems("limits") {
        problems.push(Problem::new(&path, message));
    }
    for (path, message) in config.cache.problems("cache") {
        problems.push(Problem::new(&path, message));
    }
    for (path, message) in config.store.problems("store") {
        problems.push(Problem::new(&path, message));
    }
    for (path, message) in config.telemetry.problems("telemetry") {
        problems.push(Problem::new(&path, message));
    }
    for problem in config.auth.problems("auth") {
        problems.push(Problem::new(&problem.path, problem.message.clone()));
    }
    if let Some(token) = &config.admin.token
        && token.expose().len() < 16
    {
        problems.push(Problem::new(
            "admin.token",
            "must be at least 16 characters",
        ));
    }
    problems
}

fn validate_model(
    config: &Config,
    name: &str,
    m: &super::ModelConfig,
    problems: &mut Vec<Problem>,
) {
    let path = format!("models.{name}");
    let inline = m.provider.is_some() || m.upstream_model.is_some();
    if inline && !m.deployments.is_empty() {
        problems.push(Problem::new(
            &path,
            "set either provider + upstream_model, or deployments, not both",
        ));
        return;
    }
    if inline && (m.provider.is_none() || m.upstream_model.is_none()) {
        problems.push(Problem::new(
            &path,
            "provider and upstream_model go together",
        ));
        return;
    }
    if !inline && m.deployments.is_empty() {
        problems.push(Problem::new(
            &path,
            "needs provider + upstream_model, or a deployments list",
        ));
        return;
    }
    for (i, d) in m.all_deployments().iter().enumerate() {
        let at = if inline {
            path.clone()
        } else {
            format!("{path}.deployments[{i}]")
        };
        if !config.providers.contains_key(&d.provider) {
            problems.push(Problem::new(
                &format!("{at}.provider"),
                format!(
                    "unknown provider '{}' (define it under [providers.{}])",
                    d.provider, d.provider
                ),
            ));
        }
        if d.upstream_model.trim().is_empty() {
            problems.push(Problem::new(
                &format!("{at}.upstream_model"),
                "must not be empty",
            ));
        }
        if d.weight == 0 {
            problems.push(Problem::new(&format!("{at}.weight"), "must be at least 1"));
        }
    }
    for (key, message) in m.routing.problems(&format!("{path}.routing")) {
        problems.push(Problem::new(&key, message));
    }
}
