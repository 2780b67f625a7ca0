//! `POST /v1/chat/completions`: the scripted, deterministic OpenAI chat completion.

use std::borrow::Cow;

use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};

use crate::body::MockBody;
use crate::respond;
use crate::script::Script;
use crate::server::State;
use crate::stream;

/// Longest slice of the last user message echoed back, in characters.
const ECHO_LIMIT: usize = 200;
/// Tokens added per message on top of its words, as OpenAI's chat format roughly does.
const TOKENS_PER_MESSAGE: u64 = 3;
pub const SYSTEM_FINGERPRINT: &str = "fp_mock";
pub const TOOL_CALL_ID: &str = "call_mock_1";
pub const TOOL_ARGUMENTS: &str = r#"{"x":1}"#;
/// Most choices returned for one request, whatever `n` asks for.
const MAX_CHOICES: u32 = 128;

#[derive(Deserialize)]
struct ChatRequest<'a> {
    #[serde(borrow)]
    model: Cow<'a, str>,
    #[serde(borrow)]
    messages: Vec<Message<'a>>,
    stream: Option<bool>,
    stream_options: Option<StreamOptions>,
    n: Option<u32>,
    tools: Option<Vec<Tool>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    content: Option<Content>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
}

#[derive(Deserialize)]
struct StreamOptions {
    include_usage: Option<bool>,
}

#[derive(Deserialize)]
struct Tool {
    function: Option<ToolFunction>,
}

#[derive(Deserialize)]
struct ToolFunction {
    name: String,
}

impl Message<'_> {
    /// The content string, or the text parts concatenated; empty when there is no content.
    fn text(&self) -> Cow<'_, str> {
        match &self.content {
            None => Cow::Borrowed(""),
            Some(Content::Text(text)) => Cow::Borrowed(text),
            Some(Content::Parts(parts)) => {
                Cow::Owned(parts.iter().filter_map(|p| p.text.as_deref()).collect())
            }
        }
    }
}

/// Token counts as reported in `usage`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

/// What the assistant answers, for every choice alike.
pub enum Reply {
    Text(String),
    ToolCall { name: String },
}

/// Everything needed to render the answer, streamed or not.
pub struct Answer<'a> {
    pub id: String,
    pub created: u64,
    pub model: &'a str,
    pub reply: Reply,
    pub usage: Usage,
    pub choices: u32,
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn echo(text: &str) -> String {
    let truncated = match text.char_indices().nth(ECHO_LIMIT) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    format!("Hello! You said: {truncated}")
}

fn plan<'a>(request: &'a ChatRequest<'a>, id: String, created: u64) -> Answer<'a> {
    let choices = request.n.unwrap_or(1).clamp(1, MAX_CHOICES);
    let prompt_tokens = request
        .messages
        .iter()
        .map(|m| words(&m.text()) + TOKENS_PER_MESSAGE)
        .sum();
    let tool = request
        .tools
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find_map(|t| t.function.as_ref().map(|f| f.name.clone()));
    let last = request.messages.last();
    let wants_tool = last.is_some_and(|m| m.role == "user" && m.text().contains("call tool"));
    let reply = match (tool, Script::from_model(&request.model)) {
        (_, Script::Judge(percent)) => Reply::Text(format!(
            r#"{{"score": {}, "reason": "scripted judgment"}}"#,
            percent as f64 / 100.0
        )),
        (_, Script::JudgeProse) => Reply::Text("The answer looks fine to me.".to_owned()),
        (Some(name), _) if wants_tool => Reply::ToolCall { name },
        _ => {
            let last_user = request.messages.iter().rev().find(|m| m.role == "user");
            Reply::Text(echo(&last_user.map(Message::text).unwrap_or_default()))
        }
    };
    let per_choice = match &reply {
        Reply::Text(text) => words(text),
        Reply::ToolCall { name } => words(name) + words(TOOL_ARGUMENTS),
    };
    let completion_tokens = per_choice * u64::from(choices);
    Answer {
        id,
        created,
        model: &request.model,
        reply,
        usage: Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        },
        choices,
    }
}

/// Handles one chat completion request whose body has been read.
pub async fn handle(state: &State, body: &[u8]) -> Response<MockBody> {
    let request: ChatRequest<'_> = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(err) => return respond::invalid_json(&err.to_string()),
    };
    let streaming = request.stream.unwrap_or(false);
    let script = Script::from_model(&request.model);
    if let Some(response) = scripted_failure(state, script, &request.model).await {
        return response;
    }
    let answer = plan(&request, state.next_completion_id(), state.now());
    if streaming {
        let include_usage = request
            .stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false);
        let (gap, stop) = match script {
            Script::StreamGap(gap) => (gap, None),
            Script::StreamStop(n) => (std::time::Duration::ZERO, Some(n)),
            _ => (std::time::Duration::ZERO, None),
        };
        stream::response(&answer, include_usage, gap, stop)
    } else {
        complete(&answer)
    }
}

/// The scripts that are decided before any answer is built (errors, delays); `None` means
/// "go on and answer". Shared with the embeddings endpoint.
pub async fn scripted_failure(
    state: &State,
    script: Script,
    model: &str,
) -> Option<Response<MockBody>> {
    match script {
        Script::RateLimited => Some(respond::rate_limited()),
        Script::ServerError => Some(respond::server_error()),
        Script::BadRequest => Some(respond::static_json(
            StatusCode::BAD_REQUEST,
            respond::BAD_REQUEST_BODY,
        )),
        Script::Unauthorized => Some(respond::static_json(
            StatusCode::UNAUTHORIZED,
            respond::UNAUTHORIZED_BODY,
        )),
        Script::Malformed => Some(respond::static_json(
            StatusCode::OK,
            respond::MALFORMED_BODY,
        )),
        Script::FailThenOk(k) if state.count_model_request(model) <= k => {
            Some(respond::server_error())
        }
        Script::Slow(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        _ => None,
    }
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: Vec<Choice<'a>>,
    usage: Usage,
    system_fingerprint: &'static str,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: OutMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct OutMessage<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCall<'a>; 1]>,
    refusal: Option<()>,
}

#[derive(Clone, Copy, Serialize)]
struct ToolCall<'a> {
    id: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionCall<'a>,
}

#[derive(Clone, Copy, Serialize)]
struct FunctionCall<'a> {
    name: &'a str,
    arguments: &'static str,
}

fn complete(answer: &Answer<'_>) -> Response<MockBody> {
    let (content, tool_calls, finish_reason) = match &answer.reply {
        Reply::Text(text) => (Some(text.as_str()), None, "stop"),
        Reply::ToolCall { name } => {
            let call = ToolCall {
                id: TOOL_CALL_ID,
                kind: "function",
                function: FunctionCall {
                    name,
                    arguments: TOOL_ARGUMENTS,
                },
            };
            (None, Some(call), "tool_calls")
        }
    };
    let choices = (0..answer.choices)
        .map(|index| Choice {
            index,
            message: OutMessage {
                role: "assistant",
                content,
                tool_calls: tool_calls.map(|call| [call]),
                refusal: None,
            },
            logprobs: None,
            finish_reason,
        })
        .collect();
    let completion = Completion {
        id: &answer.id,
        object: "chat.completion",
        created: answer.created,
        model: answer.model,
        choices,
        usage: answer.usage,
        system_fingerprint: SYSTEM_FINGERPRINT,
    };
    respond::serialized(StatusCode::OK, &completion)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_for(body: &str) -> (u64, u64, String) {
        let request: ChatRequest<'_> = serde_json::from_str(body).unwrap();
        let answer = plan(&request, "id".into(), 0);
        let text = match answer.reply {
            Reply::Text(text) => text,
            Reply::ToolCall { name } => format!("tool:{name}"),
        };
        (
            answer.usage.prompt_tokens,
            answer.usage.completion_tokens,
            text,
        )
    }

    #[test]
    fn echoes_last_user_message_and_counts_words() {
        let body = r#"{"model":"m","messages":[
            {"role":"system","content":"be brief"},
            {"role":"user","content":"first question"},
            {"role":"assistant","content":null},
            {"role":"user","content":[{"type":"text","text":"hi "},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"there"}]}
        ]}"#;
        let (prompt, completion, text) = answer_for(body);
        assert_eq!(text, "Hello! You said: hi there");
        // words: "be brief", "first question", none, "hi there".
        assert_eq!(prompt, 6 + 4 * TOKENS_PER_MESSAGE);
        assert_eq!(completion, 5);
    }

    #[test]
    fn truncates_to_200_characters() {
        let long = "é".repeat(250);
        let body = serde_json::json!({"model":"m","messages":[{"role":"user","content":long}]});
        let (_, _, text) = answer_for(&body.to_string());
        assert_eq!(text.chars().count(), "Hello! You said: ".len() + 200);
    }

    #[test]
    fn tool_call_only_when_last_user_message_asks() {
        let tools =
            r#""tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}}]"#;
        let ask = format!(
            r#"{{"model":"m",{tools},"messages":[{{"role":"user","content":"please call tool now"}}]}}"#
        );
        assert_eq!(answer_for(&ask).2, "tool:get_weather");
        let plain =
            format!(r#"{{"model":"m",{tools},"messages":[{{"role":"user","content":"hello"}}]}}"#);
        assert_eq!(answer_for(&plain).2, "Hello! You said: hello");
        let no_tools = r#"{"model":"m","messages":[{"role":"user","content":"call tool"}]}"#;
        assert_eq!(answer_for(no_tools).2, "Hello! You said: call tool");
    }

    #[test]
    fn n_choices_multiply_completion_tokens() {
        let body = r#"{"model":"m","n":3,"messages":[{"role":"user","content":"a b"}]}"#;
        let (_, completion, _) = answer_for(body);
        assert_eq!(completion, 5 * 3);
    }
}
