//! Table tests of the scorers: each flag raised, and not raised, by answers made for it.

use gateway_core::features::{QualityFlag, TaskType};
use gateway_core::quality::{AnswerView, JsonOutput, QualityExpectation, QualityScorer};
use gateway_core::types::{ChatRequest, FunctionDef, Message, Role, Tool};
use serde_json::json;

use super::HeuristicScorer;
use super::text::is_repetitive;

fn scorer() -> HeuristicScorer {
    HeuristicScorer::new().unwrap()
}

fn answer(text: &str) -> AnswerView<'_> {
    AnswerView {
        text,
        complete: true,
        finish_reason: Some("stop"),
        ..AnswerView::default()
    }
}

fn english() -> QualityExpectation {
    QualityExpectation {
        prompt_language: Some("en"),
        ..QualityExpectation::default()
    }
}

const GOOD: &str = "The tides are caused mainly by the gravitational pull of the Moon on the \
    oceans of the Earth, with a smaller contribution from the Sun.";

fn flags(expected: &QualityExpectation, a: &AnswerView<'_>) -> Vec<QualityFlag> {
    scorer().flags(expected, None, a)
}

#[test]
fn a_good_answer_has_no_flag_and_scores_one() {
    let r = scorer().score(&english(), None, &answer(GOOD));
    assert_eq!(r.flags, vec![]);
    assert_eq!(r.score, 1.0);
}

#[test]
fn truncated_by_length_or_max_tokens() {
    for reason in ["length", "max_tokens"] {
        let a = AnswerView {
            finish_reason: Some(reason),
            ..answer(GOOD)
        };
        assert_eq!(
            flags(&english(), &a),
            vec![QualityFlag::Truncated],
            "{reason}"
        );
    }
    for reason in ["stop", "tool_calls", "end_turn"] {
        let a = AnswerView {
            finish_reason: Some(reason),
            ..answer(GOOD)
        };
        assert_eq!(flags(&english(), &a), vec![], "{reason}");
    }
}

#[test]
fn refusals_by_field_or_phrase() {
    let refused = [
        "I'm sorry, but I can't help with that request.",
        "  I can\u{2019}t assist with creating malware.",
        "As an AI language model, I cannot do that.",
        "Lo siento, pero no puedo ayudarte con eso.",
    ];
    for text in refused {
        assert_eq!(
            flags(&QualityExpectation::default(), &answer(text)),
            vec![QualityFlag::Refusal],
            "{text}"
        );
    }
    let a = AnswerView {
        refusal: true,
        ..answer("")
    };
    // A refusal is not also empty.
    assert_eq!(flags(&english(), &a), vec![QualityFlag::Refusal]);
    // The phrase deep inside a long answer is a quotation, not a refusal.
    let quoted = format!(
        "{} {}",
        GOOD.repeat(3),
        "The bot said: I can't help with that."
    );
    assert_eq!(flags(&english(), &answer(&quoted)), vec![]);
    let r = scorer().score(&english(), None, &answer(refused[0]));
    assert!((r.score - 0.2).abs() < 1e-6, "{r:?}");
}

#[test]
fn empty_text_without_tool_calls() {
    for text in ["", "   \n\t"] {
        let r = scorer().score(&english(), None, &answer(text));
        assert_eq!(r.flags, vec![QualityFlag::Empty]);
        assert_eq!(r.score, 0.0);
    }
    let a = AnswerView {
        tool_calls: vec![("f", "{}")],
        ..answer("")
    };
    assert_eq!(flags(&english(), &a), vec![]);
}

#[test]
fn repetition_of_words_and_of_characters() {
    let looped = "I will check the answer again. ".repeat(40);
    assert!(is_repetitive(&looped));
    assert!(is_repetitive(&"a".repeat(500)));
    assert!(is_repetitive(&"好的".repeat(300)));
    assert_eq!(
        flags(&english(), &answer(&looped)),
        vec![QualityFlag::Repetitive]
    );
    let varied: String = (0..200).map(|i| format!("word{i} ")).collect();
    assert!(!is_repetitive(&varied));
    assert!(!is_repetitive(GOOD));
    assert!(!is_repetitive("ok ok ok ok"), "too short to tell");
    // Bounded: a huge answer is read only so far.
    assert!(is_repetitive(&"x y z w ".repeat(1_000_000)));
}

#[test]
fn json_object_requested() {
    let expected = QualityExpectation {
        json: JsonOutput::Object,
        ..english()
    };
    assert_eq!(flags(&expected, &answer("{\"a\": 1}")), vec![]);
    assert_eq!(flags(&expected, &answer(" {\"a\": [1, 2]}\n")), vec![]);
    for bad in ["Sure! {\"a\": 1}", "{\"a\": ", "[1, 2]", "```json\n{}\n```"] {
        assert_eq!(
            flags(&expected, &answer(bad)),
            vec![QualityFlag::InvalidJson],
            "{bad}"
        );
    }
    // Cut by the length limit: truncated, not also invalid.
    let cut = AnswerView {
        finish_reason: Some("length"),
        ..answer("{\"a\": ")
    };
    assert_eq!(flags(&expected, &cut), vec![QualityFlag::Truncated]);
    // Not requested: prose is fine.
    assert_eq!(flags(&english(), &answer(GOOD)), vec![]);
}

#[test]
fn json_schema_requested() {
    let req = ChatRequest {
        response_format: Some(json!({"type": "json_schema", "json_schema": {"name": "p",
            "schema": {"type": "object", "required": ["name", "age"],
                "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}}}})),
        ..ChatRequest::default()
    };
    let expected = scorer().expect(&req);
    assert!(matches!(expected.json, JsonOutput::Schema(_)));
    assert_eq!(
        flags(&expected, &answer("{\"name\": \"Ann\", \"age\": 3}")),
        vec![]
    );
    for bad in [
        "{\"name\": \"Ann\"}",
        "{\"name\": \"Ann\", \"age\": -1}",
        "{\"name\": 1, \"age\": 1}",
    ] {
        assert_eq!(
            flags(&expected, &answer(bad)),
            vec![QualityFlag::SchemaViolation],
            "{bad}"
        );
    }
    assert_eq!(
        flags(&expected, &answer("not json")),
        vec![QualityFlag::InvalidJson]
    );
    // A schema with a remote reference is not fetched: the check is skipped.
    let remote = QualityExpectation {
        json: JsonOutput::Schema(super::schemas::output(
            &json!({"$ref": "https://example.com/schema.json"}),
        )),
        ..QualityExpectation::default()
    };
    assert_eq!(flags(&remote, &answer("{}")), vec![]);
}

fn with_tool() -> QualityExpectation {
    let req = ChatRequest {
        messages: vec![Message::text(
            Role::User,
            "What is the weather in Paris today?",
        )],
        tools: Some(vec![Tool {
            kind: "function".into(),
            function: Some(FunctionDef {
                name: "weather".into(),
                description: None,
                parameters: Some(json!({"type": "object", "required": ["city"],
                    "properties": {"city": {"type": "string"}}, "additionalProperties": false})),
                strict: None,
            }),
            extra: Default::default(),
        }]),
        ..ChatRequest::default()
    };
    scorer().expect(&req)
}

#[test]
fn tool_call_arguments_against_the_tool_schema() {
    let expected = with_tool();
    let call = |name: &'static str, args: &'static str| AnswerView {
        tool_calls: vec![(name, args)],
        finish_reason: Some("tool_calls"),
        ..answer("")
    };
    assert_eq!(
        flags(&expected, &call("weather", "{\"city\": \"Paris\"}")),
        vec![]
    );
    for (name, args) in [
        ("weather", "{\"town\": \"Paris\"}"),
        ("weather", "{\"city\": 7}"),
        ("weather", "{\"city\": "),
        ("forecast", "{\"city\": \"Paris\"}"),
    ] {
        assert_eq!(
            flags(&expected, &call(name, args)),
            vec![QualityFlag::ToolArgsInvalid],
            "{name} {args}"
        );
    }
    // No tools offered: nothing to check against.
    assert_eq!(flags(&english(), &call("weather", "{")), vec![]);
}

#[test]
fn wrong_language_against_the_prompt() {
    let french = "Le ciel est bleu parce que la lumière du soleil est diffusée par les molécules \
        de l'air, et la lumière bleue est davantage diffusée que la rouge.";
    assert_eq!(
        flags(&english(), &answer(french)),
        vec![QualityFlag::WrongLanguage]
    );
    assert_eq!(flags(&english(), &answer(GOOD)), vec![]);
    // Translations, code, JSON answers, short answers and an unknown prompt language are not compared.
    let translation = QualityExpectation {
        translation: true,
        ..english()
    };
    assert_eq!(flags(&translation, &answer(french)), vec![]);
    assert_eq!(
        scorer().flags(&english(), Some(TaskType::Translation), &answer(french)),
        vec![]
    );
    assert_eq!(
        scorer().flags(&english(), Some(TaskType::Code), &answer(french)),
        vec![]
    );
    assert_eq!(flags(&english(), &answer("Bonjour, ça va ?")), vec![]);
    assert_eq!(
        flags(&QualityExpectation::default(), &answer(french)),
        vec![]
    );
}

#[test]
fn the_expectation_reads_the_request() {
    let req = ChatRequest {
        messages: vec![Message::text(
            Role::User,
            "Please translate this paragraph into German for our customers in Berlin.",
        )],
        response_format: Some(json!({"type": "json_object"})),
        ..ChatRequest::default()
    };
    let e = scorer().expect(&req);
    assert_eq!(e.json, JsonOutput::Object);
    assert!(e.translation);
    // The prompt's language is left to the score; a bounded sample of it is kept.
    assert_eq!(e.prompt_language, None);
    assert_eq!(
        e.prompt_sample.as_deref(),
        Some("Please translate this paragraph into German for our customers in Berlin.")
    );
    assert!(e.tools.is_empty());
    let plain = scorer().expect(&ChatRequest::default());
    assert_eq!(plain.json, JsonOutput::None);
    assert!(plain.tools.is_empty() && plain.prompt_sample.is_none() && !plain.translation);
    let long = ChatRequest {
        messages: vec![Message::text(Role::User, "é".repeat(5000))],
        ..ChatRequest::default()
    };
    let sample = scorer().expect(&long).prompt_sample.unwrap();
    assert!(
        sample.len() <= 600 && sample.len() >= 598,
        "{}",
        sample.len()
    );
    assert_eq!(with_tool().tools.len(), 1);
    assert!(!with_tool().translation);
}

#[test]
fn a_streamed_sample_that_overflowed_skips_the_json_checks() {
    let expected = QualityExpectation {
        json: JsonOutput::Object,
        ..english()
    };
    let a = AnswerView {
        complete: false,
        ..answer("{\"a\": \"")
    };
    assert_eq!(flags(&expected, &a), vec![]);
}

/// Language detections run on this thread since `f` started.
fn detections<R>(f: impl FnOnce() -> R) -> (R, u64) {
    use crate::classify::lang::DETECTIONS;
    let before = DETECTIONS.with(std::cell::Cell::get);
    let r = f();
    (r, DETECTIONS.with(std::cell::Cell::get) - before)
}

fn asked(prompt: &str) -> QualityExpectation {
    let req = ChatRequest {
        messages: vec![Message::text(Role::User, prompt)],
        ..ChatRequest::default()
    };
    let (e, n) = detections(|| scorer().expect(&req));
    assert_eq!(n, 0, "the expectation detects no language");
    e
}

#[test]
fn the_prompt_language_is_detected_only_when_an_answer_is_compared() {
    let s = scorer();
    let e = asked("Could you explain in a few sentences why the sky is blue during the day?");
    let french = "Le ciel est bleu parce que la lumière du soleil est diffusée par les molécules \
        de l'air, et la lumière bleue est davantage diffusée que la rouge.";
    // A long answer in another language: both are told, the flag is raised.
    let (f, n) = detections(|| s.flags(&e, None, &answer(french)));
    assert_eq!(f, vec![QualityFlag::WrongLanguage]);
    assert_eq!(n, 2);
    // Same language: both told, no flag.
    let (f, n) = detections(|| s.flags(&e, None, &answer(GOOD)));
    assert_eq!((f, n), (vec![], 2));
    // Short, code, JSON and translation answers: nothing is detected at all.
    let (f, n) = detections(|| s.flags(&e, None, &answer("Because of Rayleigh scattering.")));
    assert_eq!((f, n), (vec![], 0));
    let (f, n) = detections(|| s.flags(&e, Some(TaskType::Code), &answer(french)));
    assert_eq!((f, n), (vec![], 0));
    let fenced = format!("```\n{french}\n```");
    let (f, n) = detections(|| s.flags(&e, None, &answer(&fenced)));
    assert_eq!((f, n), (vec![], 0));
    let json_e = QualityExpectation {
        json: JsonOutput::Object,
        ..e.clone()
    };
    let (_, n) = detections(|| s.flags(&json_e, None, &answer(french)));
    assert_eq!(n, 0);
    let (f, n) = detections(|| s.flags(&e, Some(TaskType::Translation), &answer(french)));
    assert_eq!((f, n), (vec![], 0));
    // A short prompt keeps no sample: its language is never compared.
    let short = asked("Hi there!");
    assert!(short.prompt_sample.is_none());
    let (f, n) = detections(|| s.flags(&short, None, &answer(french)));
    assert_eq!((f, n), (vec![], 0));
    // An answer whose language cannot be told reliably: the prompt is not detected.
    let vague =
        "ok 42 17 99 3.14 2.71 1.41 xq 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22";
    let (f, n) = detections(|| s.flags(&e, None, &answer(vague)));
    assert_eq!((f, n), (vec![], 1));
}

#[test]
fn wrong_language_is_still_flagged_on_other_scripts_and_languages() {
    let s = scorer();
    let cases = [
        (
            "Peux-tu m'expliquer pourquoi le ciel est bleu pendant la journée, s'il te plaît ?",
            GOOD,
        ),
        (
            "Could you explain in a few sentences why the sky is blue during the day?",
            "Небо голубое потому, что солнечный свет рассеивается молекулами воздуха, и синий \
             свет рассеивается сильнее, чем красный, поэтому мы видим голубое небо днём.",
        ),
        (
            "Kannst du mir bitte in ein paar Sätzen erklären, warum der Himmel blau ist?",
            "El cielo es azul porque la luz del sol se dispersa en las moléculas del aire, y la \
             luz azul se dispersa más que la roja durante el día.",
        ),
    ];
    for (prompt, reply) in cases {
        assert_eq!(
            s.flags(&asked(prompt), None, &answer(reply)),
            vec![QualityFlag::WrongLanguage],
            "{prompt}"
        );
    }
    // A known prompt language (set by a caller that already had it) is used as it is.
    let (f, n) = detections(|| s.flags(&english(), None, &answer(GOOD)));
    assert_eq!((f, n), (vec![], 1));
}
