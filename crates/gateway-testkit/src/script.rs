//! The behaviour a request asks for through its model name (`mock-429`, `mock-slow-250`, ...).

use std::time::Duration;

/// What the mock does for one request, decided by the model name alone:
///
/// | model | behaviour |
/// |---|---|
/// | anything else (`gpt-4o-mini`, `demo-model`) | `Hello! You said: <last user text>` |
/// | `mock-slow-<ms>` | the default answer after `<ms>` ms |
/// | `mock-429` / `mock-500` / `mock-400` / `mock-401` | that status with OpenAI's error body (429 has `retry-after: 1`) |
/// | `mock-malformed` | 200 with a truncated JSON body |
/// | `mock-stream-stop-<n>` | streaming: `<n>` content chunks, then the connection is cut (no `[DONE]`) |
/// | `mock-stream-gap-<ms>` | streaming: `<ms>` ms between chunks |
/// | `mock-fail-then-ok-<k>` | the first `<k>` requests with this model get 500 |
/// | `mock-judge-<p>` | a quality judge's JSON verdict: `{"score": <p/100>, "reason": "..."}` |
/// | `mock-judge-prose` | a quality judge that answers prose instead of JSON |
///
/// Error and delay scripts apply to `/v1/embeddings` too; the stream scripts answer
/// normally when the request does not stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    /// The deterministic answer.
    Default,
    /// The default answer after this delay (before the headers).
    Slow(Duration),
    /// 429 with `retry-after: 1`.
    RateLimited,
    /// 500 server error.
    ServerError,
    /// 400 invalid request (`temperature`).
    BadRequest,
    /// 401 invalid upstream API key.
    Unauthorized,
    /// 200 with a truncated JSON body.
    Malformed,
    /// When streaming: this many content chunks, then the connection is cut.
    StreamStop(u64),
    /// When streaming: this delay between chunks.
    StreamGap(Duration),
    /// The first `k` requests with this exact model name get 500, later ones succeed.
    FailThenOk(u64),
    /// Answers a judge's verdict, `{"score": <percent / 100>, ...}`.
    Judge(u64),
    /// Answers a judge's verdict in prose (not the JSON asked for).
    JudgeProse,
}

impl Script {
    /// Reads the script out of a model name; unknown or malformed names are [`Script::Default`].
    pub fn from_model(model: &str) -> Self {
        let Some(rest) = model.strip_prefix("mock-") else {
            return Self::Default;
        };
        match rest {
            "429" => return Self::RateLimited,
            "500" => return Self::ServerError,
            "400" => return Self::BadRequest,
            "401" => return Self::Unauthorized,
            "malformed" => return Self::Malformed,
            "judge-prose" => return Self::JudgeProse,
            _ => {}
        }
        let number = |prefix: &str| {
            rest.strip_prefix(prefix)
                .and_then(|n| n.parse::<u64>().ok())
        };
        if let Some(ms) = number("slow-") {
            Self::Slow(Duration::from_millis(ms))
        } else if let Some(n) = number("stream-stop-") {
            Self::StreamStop(n)
        } else if let Some(ms) = number("stream-gap-") {
            Self::StreamGap(Duration::from_millis(ms))
        } else if let Some(k) = number("fail-then-ok-") {
            Self::FailThenOk(k)
        } else if let Some(p) = number("judge-") {
            Self::Judge(p)
        } else {
            Self::Default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_script() {
        let cases = [
            ("gpt-4o-mini", Script::Default),
            ("demo-model", Script::Default),
            ("mock-model", Script::Default),
            ("mock-slow-250", Script::Slow(Duration::from_millis(250))),
            ("mock-429", Script::RateLimited),
            ("mock-500", Script::ServerError),
            ("mock-400", Script::BadRequest),
            ("mock-401", Script::Unauthorized),
            ("mock-malformed", Script::Malformed),
            ("mock-stream-stop-3", Script::StreamStop(3)),
            (
                "mock-stream-gap-20",
                Script::StreamGap(Duration::from_millis(20)),
            ),
            ("mock-fail-then-ok-2", Script::FailThenOk(2)),
            ("mock-judge-80", Script::Judge(80)),
            ("mock-judge-prose", Script::JudgeProse),
            ("mock-slow-abc", Script::Default),
            ("mock-fail-then-ok-", Script::Default),
        ];
        for (model, want) in cases {
            assert_eq!(Script::from_model(model), want, "{model}");
        }
    }
}
