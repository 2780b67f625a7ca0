use super::*;

fn load(text: &str) -> Result<Config, ConfigErrors> {
    let lookup = |name: &str| (name == "UPSTREAM_KEY").then(|| "sk-up".to_owned());
    Config::from_toml_str(text, &lookup, std::iter::empty())
}

#[test]
fn empty_config_is_valid_with_defaults() {
    let c = load("").unwrap();
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert!(c.providers.is_empty());
}

#[test]
fn full_config_parses() {
    let c = load(
        r#"
        [server]
        listen = "127.0.0.1:9000"
        max_body_bytes = 1024
        [providers.up]
        kind = "openai"
        base_url = "http://127.0.0.1:1/v1"
        api_key = "${UPSTREAM_KEY}"
        [models.fast]
        provider = "up"
        upstream_model = "gpt-4o-mini"
        "#,
    )
    .unwrap();
    assert_eq!(
        c.providers["up"].api_key.as_ref().unwrap().expose(),
        "sk-up"
    );
    assert_eq!(
        c.models["fast"].upstream_model.as_deref(),
        Some("gpt-4o-mini")
    );
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let err = load(
        r#"
        [server]
        listen = "not an address"
        [logging]
        colour = true
        [providers.up]
        kind = "openai"
        base_url = "ftp://x"
        api_key = "${MISSING_KEY}"
        [providers.weird]
        kind = "carrier-pigeon"
        base_url = "http://x"
        [models.fast]
        provider = "nope"
        upstream_model = ""
        [models.both]
        provider = "up"
        upstream_model = "x"
        deployments = [{ provider = "up", upstream_model = "y" }]
        [models.group]
        deployments = [{ provider = "up", upstream_model = "a" }, { provider = "ghost", upstream_model = "b" }]
        [extra]
        "#,
    )
    .unwrap_err();
    let paths: Vec<&str> = err.0.iter().map(|p| p.path.as_str()).collect();
    for expected in [
        "server",
        "logging",
        "providers.up.api_key",
        "providers.weird",
        "providers.up.base_url",
        "models.fast.provider",
        "models.fast.upstream_model",
        "models.both",
        "models.group.deployments[1].provider",
        "extra",
    ] {
        assert!(paths.contains(&expected), "missing {expected} in {paths:?}");
    }
}

#[test]
fn secrets_do_not_print() {
    let c = load("[providers.up]\nkind = \"openai\"\nbase_url = \"http://h/v1\"\napi_key = \"${UPSTREAM_KEY}\"").unwrap();
    assert!(!format!("{c:?}").contains("sk-up"));
}

#[test]
fn env_providers_are_enabled_by_key() {
    let mut c = Config::default();
    providers_from_env(&mut c, &|name| {
        (name == "GROQ_API_KEY").then(|| "gsk".to_owned())
    });
    assert!(c.providers.contains_key("groq"));
    assert!(!c.providers.contains_key("openai"));
    assert_eq!(
        c.models["llama-3.1-8b-instant"].provider.as_deref(),
        Some("groq")
    );
}

#[test]
fn server_workers_default_to_one_per_core_and_are_bounded() {
    let config = load("").unwrap();
    assert_eq!(config.server.workers, 0);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(config.server.worker_threads(), cores);
    let one = load("[server]\nworkers = 1\n").unwrap();
    assert_eq!(one.server.worker_threads(), 1);
    let err = load("[server]\nworkers = 5000\n").unwrap_err();
    assert!(
        err.0.iter().any(|p| p.path == "server.workers"),
        "{:?}",
        err.0
    );
}

#[test]
fn stream_bounds_have_defaults_and_are_validated() {
    let base = "[providers.up]\nkind = \"openai\"\nbase_url = \"http://h/v1\"\n";
    let c = load(base).unwrap();
    assert_eq!(c.providers["up"].max_stream_secs, 3600);
    assert_eq!(c.providers["up"].max_sse_line_bytes, 1024 * 1024);
    let err = load(&format!(
        "{base}max_stream_secs = 0\nmax_sse_line_bytes = 10\n"
    ))
    .unwrap_err();
    let paths: Vec<&str> = err.0.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"providers.up"), "{paths:?}");
    assert!(
        paths.contains(&"providers.up.max_sse_line_bytes"),
        "{paths:?}"
    );
}

#[test]
fn passthrough_params_name_foreign_fields_of_openai_compatible_upstreams() {
    let vllm = "[providers.vllm]\nkind = \"openai\"\nbase_url = \"http://h/v1\"\n";
    let c = load(&format!("{vllm}passthrough_params = [\"top_k\"]\n")).unwrap();
    assert_eq!(c.providers["vllm"].passthrough_params, ["top_k"]);
    let err = load(&format!("{vllm}passthrough_params = [\"min_p\"]\n")).unwrap_err();
    let problem = &err.0[0];
    assert_eq!(problem.path, "providers.vllm.passthrough_params");
    assert!(problem.message.contains("'min_p'"), "{}", problem.message);
    let claude = "[providers.claude]\nkind = \"anthropic\"\npassthrough_params = [\"top_k\"]\n";
    let err = load(claude).unwrap_err();
    assert_eq!(err.0[0].path, "providers.claude.passthrough_params");
    assert!(
        err.0[0].message.contains("kind 'anthropic'"),
        "{}",
        err.0[0].message
    );
}
