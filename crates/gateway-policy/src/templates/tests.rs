//! Rendering: strict variables, bounds, no file access, and every built-in template.

use serde_json::{Map, Value, json};

use super::builtin;
use super::*;

fn source(messages: &[(&str, &str)]) -> TemplateSource {
    let mut t = TemplateSource {
        messages: messages
            .iter()
            .map(|(role, content)| TemplateMessage {
                role: (*role).to_owned(),
                content: (*content).to_owned(),
            })
            .collect(),
        ..TemplateSource::default()
    };
    t.validate().expect("valid template");
    t
}

fn vars(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("an object"),
    }
}

#[test]
fn renders_messages_and_infers_variables() {
    let t = source(&[
        ("system", "Answer in {{ lang }}."),
        ("user", "{% for q in questions %}- {{ q }}\n{% endfor %}"),
    ]);
    let names: Vec<&str> = t.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["lang", "questions"]);
    let out = render(
        &t,
        &vars(json!({"lang": "French", "questions": ["a", "<b>"]})),
        &RenderLimits::default(),
    )
    .unwrap();
    assert_eq!(out[0].content, "Answer in French.");
    // No autoescaping: prompts are not HTML.
    assert_eq!(out[1].content, "- a\n- <b>\n");
    assert_eq!(out[1].role, "user");
}

#[test]
fn missing_and_unknown_variables_are_named() {
    let t = source(&[("user", "Hi {{ name }}")]);
    let limits = RenderLimits::default();
    let e = render(&t, &Map::new(), &limits).unwrap_err();
    assert_eq!(e, TemplateError::MissingVariable("name".to_owned()));
    assert_eq!(e.param(), "template.variables.name");
    let e = render(&t, &vars(json!({"name": "x", "nmae": "y"})), &limits).unwrap_err();
    assert!(
        e.to_string().contains("'nmae'") && e.to_string().contains("name"),
        "{e}"
    );
    // An undefined attribute is an error, not an empty string.
    let t = source(&[("user", "Hi {{ user.name }}")]);
    let e = render(&t, &vars(json!({"user": {}})), &limits).unwrap_err();
    assert!(matches!(e, TemplateError::Render { .. }), "{e:?}");
    assert!(e.to_string().contains("undefined"), "{e}");
}

#[test]
fn optional_variables_with_defaults() {
    let mut t = source(&[(
        "user",
        "{{ n | default(3) }}{% if x is defined %} {{ x }}{% endif %}",
    )]);
    for v in &mut t.variables {
        v.required = false;
    }
    let limits = RenderLimits::default();
    assert_eq!(render(&t, &Map::new(), &limits).unwrap()[0].content, "3");
    let out = render(&t, &vars(json!({"n": 1, "x": "y"})), &limits).unwrap();
    assert_eq!(out[0].content, "1 y");
}

#[test]
fn fuel_and_size_bound_a_render() {
    let t = source(&[(
        "user",
        "{% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}{% endfor %}",
    )]);
    let limits = RenderLimits {
        fuel: 10_000,
        max_bytes: usize::MAX,
    };
    assert_eq!(
        render(&t, &Map::new(), &limits).unwrap_err(),
        TemplateError::OutOfFuel(10_000)
    );
    let t = source(&[("user", "{{ text }}{{ text }}"), ("user", "{{ text }}")]);
    let limits = RenderLimits {
        fuel: 10_000,
        max_bytes: 250,
    };
    let text = "x".repeat(100);
    let e = render(&t, &vars(json!({ "text": text })), &limits).unwrap_err();
    assert_eq!(e, TemplateError::TooLarge(250));
}

#[test]
fn no_loader_no_file_access() {
    for src in [
        "{% include 'x.txt' %}",
        "{% import 'x' as y %}",
        "{% extends '/etc/passwd' %}",
    ] {
        let mut t = TemplateSource {
            prompt: Some(src.to_owned()),
            ..TemplateSource::default()
        };
        let e = t.validate();
        assert!(
            matches!(e, Err(TemplateError::Invalid { ref param, .. }) if param == "prompt"),
            "{src}: {e:?}"
        );
    }
}

#[test]
fn definitions_are_checked() {
    let mut both = source(&[("user", "x")]);
    both.prompt = Some("y".to_owned());
    assert!(both.validate().is_err());
    let mut empty = TemplateSource::default();
    assert!(empty.validate().is_err());
    let mut role = TemplateSource {
        messages: vec![TemplateMessage {
            role: "tool".to_owned(),
            content: "x".to_owned(),
        }],
        ..TemplateSource::default()
    };
    let e = role.validate().unwrap_err();
    assert_eq!(e.param(), "messages.0.role");
    let mut syntax = TemplateSource {
        prompt: Some("{{ unclosed".to_owned()),
        ..TemplateSource::default()
    };
    let e = syntax.validate().unwrap_err();
    assert!(e.to_string().contains("line 1"), "{e}");
    let mut undeclared = TemplateSource {
        prompt: Some("{{ a }} {{ b }}".to_owned()),
        variables: vec![VariableSpec {
            name: "a".to_owned(),
            description: String::new(),
            required: true,
        }],
        ..TemplateSource::default()
    };
    assert!(
        undeclared
            .validate()
            .unwrap_err()
            .to_string()
            .contains("'b'")
    );
    assert!(valid_id("support-reply_v2.en").is_ok());
    for bad in ["", "-x", "a/b", "builtin.summarise", &"x".repeat(65)] {
        assert!(valid_id(bad).is_err(), "{bad}");
    }
}

#[test]
fn every_builtin_renders() {
    let samples = json!({
        "builtin.summarise": {"text": "Rust is a language."},
        "builtin.classify": {"text": "My card was charged twice", "labels": ["billing", "bug"]},
        "builtin.extract-json": {"text": "Ann, 31", "schema": {"type": "object", "properties": {"age": {"type": "integer"}}}},
        "builtin.translate": {"text": "Good morning", "target_language": "French"},
        "builtin.code-review": {"code": "fn main() {}", "language": "Rust"},
        "builtin.answer-with-citations": {"question": "Who?", "sources": ["Ann wrote it.", "Bob read it."]},
    });
    assert_eq!(builtin::all().len(), 6);
    for b in builtin::all() {
        let mut checked = b.source.clone();
        checked
            .validate()
            .unwrap_or_else(|e| panic!("{}: {e}", b.id));
        assert_eq!(checked.variables, b.source.variables, "{}", b.id);
        let v = vars(samples[b.id].clone());
        let out = render(&b.source, &v, &RenderLimits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", b.id));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].role, "system");
        for value in v.values() {
            let shown = match value {
                Value::String(s) => s.clone(),
                Value::Array(items) => items[0].as_str().unwrap_or_default().to_owned(),
                other => other.to_string().chars().take(8).collect(),
            };
            assert!(
                out[1].content.contains(shown.trim_matches('"')) || !value.is_string(),
                "{}: {shown} not in {}",
                b.id,
                out[1].content
            );
        }
        assert!(!out[1].content.contains("{{"), "{}", b.id);
        assert!(builtin::get(b.id).is_some());
    }
    let cited = render(
        &builtin::get("builtin.answer-with-citations")
            .unwrap()
            .source,
        &vars(samples["builtin.answer-with-citations"].clone()),
        &RenderLimits::default(),
    )
    .unwrap();
    assert!(
        cited[1].content.contains("[2] Bob read it."),
        "{}",
        cited[1].content
    );
    let json = render(
        &builtin::get("builtin.extract-json").unwrap().source,
        &vars(samples["builtin.extract-json"].clone()),
        &RenderLimits::default(),
    )
    .unwrap();
    assert!(
        json[1].content.contains(r#""age": {"type": "integer"}"#),
        "{}",
        json[1].content
    );
}
