//! Tests of the route table and path matching (`routes.rs`).

use super::*;

#[test]
fn every_route_is_found_by_its_method_and_labelled_by_its_path() {
    for route in &ROUTES {
        let path = example_path(route.path);
        let found = lookup(&route.method, &path);
        assert!(
            matches!(found.found, Found::Route(r, _) if std::ptr::eq(r, route)),
            "{path}"
        );
        assert_eq!(found.label, route.path);
        let unrouted = [Method::GET, Method::DELETE, Method::PUT]
            .into_iter()
            .find(|m| {
                ROUTES
                    .iter()
                    .all(|r| r.method != m || matches(r.path, &path).is_none())
            })
            .expect("some method is not routed");
        let other = lookup(&unrouted, &path);
        if route.is_catch_all() && route.errors == ErrorShape::Gemini {
            // Only its own method reaches Google's catch-all: the path is nobody's
            // otherwise.
            assert!(matches!(other.found, Found::Unknown), "{path}");
            assert_eq!(other.errors, route.errors);
            continue;
        }
        assert!(matches!(other.found, Found::WrongMethod), "{path}");
        assert_eq!(other.label, route.path);
    }
}

/// `pattern` with every parameter filled in.
fn example_path(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some(rest) => format!("x-1{}", rest.split_once('}').expect("closed").1),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn patterns_capture_one_segment_and_respect_suffixes() {
    let id = "/v1/things/{id}/items";
    assert_eq!(
        matches(id, "/v1/things/t_1/items").expect("matches").get(0),
        Some("t_1")
    );
    assert!(matches(id, "/v1/things//items").is_none());
    assert!(matches(id, "/v1/things/t_1").is_none());
    assert!(matches(id, "/v1/things/a:b/items").is_none());
    assert!(matches("/v1/things/{id}:go", "/v1/things/a/b:go").is_none());
    assert_eq!(matches("/health", "/health"), Some(PathParams::default()));
    assert!(matches("/health", "/health/").is_none());
}

/// Where `method path` goes: the route's pattern and its parameter, or what else.
fn routed(method: &Method, path: &str) -> Result<(&'static str, String), &'static str> {
    match lookup(method, path).found {
        Found::Route(route, params) => Ok((route.path, params.get(0).unwrap_or("").into())),
        Found::WrongMethod => Err("405"),
        Found::Unknown => Err("404"),
        Found::Admin => Err("admin"),
    }
}

#[test]
fn gemini_model_names_may_hold_slashes_and_colons() {
    let post = |path| routed(&Method::POST, path);
    let generate = "/v1beta/models/{model}:generateContent";
    for (path, model) in [
        (
            "/v1beta/models/gemini-2.0-flash:generateContent",
            "gemini-2.0-flash",
        ),
        (
            "/v1beta/models/ollama/llama3:8b:generateContent",
            "ollama/llama3:8b",
        ),
        ("/v1beta/models/my-model:v2:generateContent", "my-model:v2"),
        (
            "/v1beta/models/my-model%3Av2:generateContent",
            "my-model:v2",
        ),
        (
            "/v1beta/models/ollama%2Fllama3%3a8b:generateContent",
            "ollama/llama3:8b",
        ),
        ("/v1beta/models/a:b:c:generateContent", "a:b:c"),
        ("/v1beta/models/a%20b:generateContent", "a b"),
        ("/v1beta/models/:generateContent", ""),
    ] {
        assert_eq!(post(path), Ok((generate, model.to_owned())), "{path}");
    }
    assert_eq!(
        post("/v1/models/ollama/llama3:8b:streamGenerateContent"),
        Ok((
            "/v1/models/{model}:streamGenerateContent",
            "ollama/llama3:8b".to_owned()
        ))
    );
    assert_eq!(
        post("/v1beta/models/my:model:batchEmbedContents"),
        Ok((
            "/v1beta/models/{model}:batchEmbedContents",
            "my:model".to_owned()
        ))
    );
    // The method is what follows the last colon, spelled exactly.
    for path in [
        "/v1beta/models/m:generatecontent",
        "/v1beta/models/m:generateContent:x",
        "/v1beta/models/m:generateContent/x",
        "/v1beta/models/m%3AgenerateContent",
        "/v1beta/models/m:",
        "/v1beta/models/:",
        "/v1beta/models/m",
        "/v1beta/models/",
        "/v1beta/models/m:predict",
        "/v1beta/tunedModels/m:generateContent",
    ] {
        assert_eq!(post(path), Err("404"), "{path}");
        assert_eq!(
            lookup(&Method::POST, path).errors,
            ErrorShape::Gemini,
            "{path}"
        );
    }
    // Not UTF-8 once decoded: no model of ours.
    assert_eq!(post("/v1beta/models/%FF:generateContent"), Err("404"));
    let long = format!("/v1beta/models/{}:generateContent", "m:/".repeat(5000));
    assert_eq!(post(&long).map(|(_, m)| m.len()), Ok(15_000));
}

#[test]
fn the_gemini_model_resource_is_a_catch_all_for_get() {
    let get = |path| routed(&Method::GET, path);
    let one = "/v1beta/models/{model}";
    assert_eq!(get("/v1beta/models"), Ok(("/v1beta/models", String::new())));
    assert_eq!(get("/v1beta/models/gpt-4o"), Ok((one, "gpt-4o".to_owned())));
    assert_eq!(
        get("/v1beta/models/ollama/llama3:8b"),
        Ok((one, "ollama/llama3:8b".to_owned()))
    );
    assert_eq!(get("/v1beta/models/a%2Fb"), Ok((one, "a/b".to_owned())));
    assert_eq!(get("/v1beta/models/:"), Ok((one, ":".to_owned())));
    assert_eq!(get("/v1beta/models/"), Ok((one, String::new())));
    // A method path is not a model: GET there is the wrong method.
    assert_eq!(get("/v1beta/models/m:generateContent"), Err("405"));
    assert_eq!(get("/v1beta/models/a/b:countTokens"), Err("405"));
    // The OpenAI model routes are untouched.
    assert_eq!(get("/v1/models"), Ok(("/v1/models", String::new())));
    assert_eq!(
        get("/v1/models/gpt-4o"),
        Ok(("/v1/models/{id}", "gpt-4o".to_owned()))
    );
    assert_eq!(routed(&Method::DELETE, "/v1beta/models/m"), Err("404"));
    assert_eq!(routed(&Method::POST, "/v1beta/models"), Err("405"));
}

#[test]
fn openai_model_ids_may_hold_slashes_and_colons() {
    let get = |path| routed(&Method::GET, path);
    let one = "/v1/models/{id}";
    for (path, id) in [
        ("/v1/models/gpt-4o", "gpt-4o"),
        ("/v1/models/llama3:8b", "llama3:8b"),
        ("/v1/models/llama3%3A8b", "llama3:8b"),
        ("/v1/models/llama3%3a8b", "llama3:8b"),
        ("/v1/models/ollama/llama3:8b", "ollama/llama3:8b"),
        ("/v1/models/ollama%2Fllama3%3A8b", "ollama/llama3:8b"),
        (
            "/v1/models/ft:gpt-4o-mini:org::abc",
            "ft:gpt-4o-mini:org::abc",
        ),
        ("/v1/models/a/b/c", "a/b/c"),
        ("/v1/models/a%20b", "a b"),
        ("/v1/models/:", ":"),
        ("/v1/models/", ""),
    ] {
        assert_eq!(get(path), Ok((one, id.to_owned())), "{path}");
        assert_eq!(lookup(&Method::GET, path).label, one, "{path}");
        assert_eq!(lookup(&Method::GET, path).errors, ErrorShape::OpenAi);
    }
    assert_eq!(get("/v1/models"), Ok(("/v1/models", String::new())));
    // Not UTF-8 once decoded: no model of ours.
    assert_eq!(get("/v1/models/%FF"), Err("404"));
    // A Google method path stays Google's: GET there is the wrong method.
    assert_eq!(get("/v1/models/m:generateContent"), Err("405"));
    assert_eq!(
        lookup(&Method::GET, "/v1/models/m:generateContent").errors,
        ErrorShape::Gemini
    );
    // Other methods: a one-segment id is a known path, anything longer nobody's.
    assert_eq!(routed(&Method::DELETE, "/v1/models/m"), Err("405"));
    assert_eq!(routed(&Method::POST, "/v1/models/m"), Err("405"));
    assert_eq!(routed(&Method::DELETE, "/v1/models/a/b"), Err("404"));
    assert_eq!(routed(&Method::DELETE, "/v1/models/a:b"), Err("404"));
    assert_eq!(routed(&Method::POST, "/v1/models/m:predict"), Err("404"));
    assert_eq!(
        lookup(&Method::POST, "/v1/models/m:predict").errors,
        ErrorShape::Gemini
    );
}

#[test]
fn paths_outside_the_table_have_fixed_labels() {
    let admin = lookup(&Method::GET, "/admin/v1/keys/k-123");
    assert!(matches!(admin.found, Found::Admin));
    assert_eq!(admin.label, ADMIN_LABEL);
    let unknown = lookup(&Method::POST, "/v1/chat/completions/x");
    assert!(matches!(unknown.found, Found::Unknown));
    assert_eq!(unknown.label, OTHER_LABEL);
}

#[test]
fn anthropic_paths_answer_errors_in_anthropic_shape() {
    let shape = |path| lookup(&Method::POST, path).errors;
    assert_eq!(shape("/v1/messages"), ErrorShape::Anthropic);
    assert_eq!(shape("/v1/messages/count_tokens"), ErrorShape::Anthropic);
    assert_eq!(shape("/v1/chat/completions"), ErrorShape::OpenAi);
    assert_eq!(shape("/v1/messages/batches"), ErrorShape::Anthropic);
    assert_eq!(shape("/unknown"), ErrorShape::OpenAi);
    assert_eq!(
        shape("/v1beta/models/m:generateContent"),
        ErrorShape::Gemini
    );
    assert_eq!(shape("/v1beta/models/m:predict"), ErrorShape::Gemini);
    assert_eq!(shape("/v1/models/m:generateContent"), ErrorShape::Gemini);
    assert_eq!(shape("/v1/models/m:predict"), ErrorShape::Gemini);
    assert_eq!(shape("/v1/models/m/extra"), ErrorShape::OpenAi);
    assert_eq!(
        lookup(&Method::GET, "/v1/models/m").errors,
        ErrorShape::OpenAi
    );
    assert_eq!(
        lookup(&Method::GET, "/v1/messages").errors,
        ErrorShape::Anthropic
    );
}

#[test]
fn model_calls_name_their_endpoint() {
    let endpoints: Vec<&str> = ROUTES
        .iter()
        .filter_map(|r| match r.handler {
            Handler::ModelCall(d) => Some(d.endpoint().as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        endpoints,
        [
            "chat_completions",
            "embeddings",
            "messages",
            "query",
            "responses",
            "generate_content",
            "generate_content",
            "embed_content",
            "embed_content",
            "generate_content",
            "generate_content",
            "embed_content",
            "embed_content"
        ]
    );
}
