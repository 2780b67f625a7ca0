//! Prompt-type routing through the whole gateway: calls to the virtual model `auto` are
//! classified, sent where the first matching CEL rule says (plain and streamed), and the
//! answer explains the choice in `x-gateway-route-reason`; a bad rule is a configuration
//! error with its dotted path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gateway_app::Config;

const SECTIONS: &str = r#"
[models.fast]
provider = "mock"
upstream_model = "gpt-4o-mini"

[models.smart]
provider = "mock"
upstream_model = "gpt-4o"

[prompt_routing]
default = "fast"

[[prompt_routing.rules]]
name = "code"
when = 'task == "code"'
to = ["smart"]
"#;

fn auto_body(prompt: &str, stream: bool) -> String {
    serde_json::json!({"model": "auto", "stream": stream,
        "messages": [{"role": "user", "content": prompt}]})
    .to_string()
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn auto_goes_where_the_rules_say_and_says_why() {
    let gw = TestGateway::start_with_sections("", SECTIONS).await;
    for stream in [false, true] {
        let reply = gw
            .post(
                "/v1/chat/completions",
                &auto_body(
                    "Write a Python function that checks whether a string is a palindrome.",
                    stream,
                ),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(header(&reply, "x-gateway-model"), Some("gpt-4o"));
        let reason = header(&reply, "x-gateway-route-reason").unwrap();
        assert!(
            reason.starts_with("rule=code task=code lang=en"),
            "{reason}"
        );
        assert!(reason.ends_with("-> smart"), "{reason}");

        let reply = gw
            .post(
                "/v1/chat/completions",
                &auto_body("Hi! How are you today?", stream),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(header(&reply, "x-gateway-model"), Some("gpt-4o-mini"));
        let reason = header(&reply, "x-gateway-route-reason").unwrap();
        assert!(
            reason.starts_with("rule=default task=conversation"),
            "{reason}"
        );
    }
    // A named model is routed as before, with no reason.
    let reply = gw
        .post("/v1/chat/completions", &chat_body("smart", false))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(header(&reply, "x-gateway-route-reason"), None);
    let models = gw.get("/v1/models").await;
    assert!(String::from_utf8_lossy(&models.body).contains("\"auto\""));
}

#[test]
fn a_bad_rule_is_a_configuration_error_with_its_path() {
    let text = format!(
        "{}\n[[prompt_routing.rules]]\nname = \"broken\"\nwhen = 'tokens >'\nto = [\"nowhere\"]\n",
        SECTIONS.replace("[models.smart]", "[models.smart2]")
    );
    let text = format!(
        "[providers.mock]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9\"\napi_key = \"k\"\n{text}"
    );
    let errors = Config::from_toml_str(&text, &|_| None, std::iter::empty()).unwrap_err();
    let paths: Vec<&str> = errors.0.iter().map(|p| p.path.as_str()).collect();
    for want in [
        "prompt_routing.rules[0].to",
        "prompt_routing.rules[1].when",
        "prompt_routing.rules[1].to",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
}
