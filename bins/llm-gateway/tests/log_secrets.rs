//! No secret in a log line: the real binary, at debug level, in text and JSON, in front of an
//! upstream that echoes the API key it was sent — glued to other words (`bad key:sk-…`,
//! `auth=…`, `Bearer%20…`), in error bodies, headers, streams and garbage — plus resets,
//! hangs and callers presenting wrong or JWT-shaped credentials. Every line the gateway
//! printed (stdout and stderr) is searched for every secret.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const OPENAI_KEY: &str = "sk-proj-EchoedUpstreamKey0123456789";
const GEMINI_KEY: &str = "AIzaSyEchoedGeminiKey0123456789abcd";
const ANTHROPIC_KEY: &str = "sk-ant-api03-EchoedAnthropicKey98765";
const ADMIN_TOKEN: &str = "admin-token-Echo0123456789xyz";
/// The caller's key (gateway key shape), and credentials that are refused.
const CALLER_KEY: &str = "sk-gw-LogSecretsKey0123456789abcdefghijklmnopqrst";
const WRONG_CALLER_KEY: &str = "sk-gw-WrongCallerKey0123456789abcdefghijklmnopqrs";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0LXVzZXIifQ.c2lnbmF0dXJlLWJ5dGVz";

/// The faults the upstream plays, chosen by the model name found in the request.
const FAULTS: [&str; 11] = [
    "echo-401",
    "echo-400",
    "echo-500",
    "echo-429",
    "echo-garbage",
    "echo-header",
    "echo-stream-error",
    "echo-stream-garbage",
    "echo-stream-cut",
    "reset",
    "hang",
];

/// The credential the gateway sent upstream: bearer token, `x-api-key`, `x-goog-api-key` or
/// the `key` query parameter.
fn presented_key(head: &str) -> String {
    for line in head.lines() {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("authorization: bearer ") {
            return line[line.len() - v.len()..].trim().to_owned();
        }
        for name in ["x-api-key: ", "x-goog-api-key: ", "api-key: "] {
            if lower.starts_with(name) {
                return line[name.len()..].trim().to_owned();
            }
        }
    }
    head.split_once("key=")
        .map(|(_, rest)| rest.split([' ', '&']).next().unwrap_or("").to_owned())
        .unwrap_or_default()
}

fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(text.into_owned());
            }
        }
    }
}

fn respond(stream: &mut TcpStream, status: &str, headers: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
        body.len()
    );
}

fn serve_fault(mut stream: TcpStream) {
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    let key = presented_key(&request);
    let fault = FAULTS
        .iter()
        .find(|f| request.contains(*f))
        .copied()
        .unwrap_or("echo-400");
    let json = |message: String| format!(r#"{{"error":{{"message":"{message}","type":"x"}}}}"#);
    let sse = "content-type: text/event-stream\r\n";
    match fault {
        "echo-401" => respond(
            &mut stream,
            "401 Unauthorized",
            "content-type: application/json\r\n",
            &json(format!("Incorrect API key provided: bad key:{key}")),
        ),
        "echo-400" => respond(
            &mut stream,
            "400 Bad Request",
            "content-type: application/json\r\n",
            &json(format!("invalid request auth={key}&model=x")),
        ),
        "echo-500" => respond(
            &mut stream,
            "500 Internal Server Error",
            "content-type: text/plain\r\n",
            &format!("upstream broke on Authorization:Bearer%20{key}"),
        ),
        "echo-429" => respond(
            &mut stream,
            "429 Too Many Requests",
            "content-type: application/json\r\nretry-after: 0\r\n",
            &json(format!("quota exceeded for key:{key}")),
        ),
        "echo-garbage" => respond(
            &mut stream,
            "200 OK",
            "content-type: application/json\r\n",
            &format!("{{\"id\":\"{key}\",\"choices\":[{{garbage"),
        ),
        "echo-header" => respond(
            &mut stream,
            "502 Bad Gateway",
            &format!(
                "content-type: application/json\r\nwww-authenticate: Bearer realm=\"{key}\"\r\n"
            ),
            &json(format!("proxy says no to {key}")),
        ),
        "echo-stream-error" => respond(
            &mut stream,
            "200 OK",
            sse,
            &format!("data: {}\n\n", json(format!("stream failed, key={key}"))),
        ),
        "echo-stream-garbage" => respond(
            &mut stream,
            "200 OK",
            sse,
            &format!("data: {{not json {key}\n\n"),
        ),
        "echo-stream-cut" => {
            let chunk = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\n{sse}content-length: 100000\r\n\r\ndata: {chunk}\n\ndata: {{\"error\":\"{key}\""
            );
        }
        "reset" => {}
        _ => thread::sleep(Duration::from_secs(3)), // hang past the first-byte timeout
    }
}

fn start_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve_fault(stream));
        }
    });
    addr
}

fn config(upstream: SocketAddr, format: &str) -> String {
    let mut text = format!(
        r#"
[logging]
level = "debug"
format = "{format}"

[admin]
token = "{ADMIN_TOKEN}"

[providers.openai]
kind = "openai"
base_url = "http://{upstream}/v1"
api_key = "{OPENAI_KEY}"
first_byte_timeout_secs = 1

[providers.gemini]
kind = "gemini"
base_url = "http://{upstream}/v1beta"
api_key = "{GEMINI_KEY}"
first_byte_timeout_secs = 1

[providers.anthropic]
kind = "anthropic"
base_url = "http://{upstream}"
api_key = "{ANTHROPIC_KEY}"
first_byte_timeout_secs = 1
"#
    );
    for fault in FAULTS {
        for provider in ["openai", "gemini", "anthropic"] {
            text.push_str(&format!(
                "[models.{provider}-{fault}]\nprovider = \"{provider}\"\nupstream_model = \"{fault}\"\n"
            ));
        }
    }
    text
}

struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the gateway; every line it prints is collected into the returned log.
fn start(config_path: &std::path::Path) -> (Running, SocketAddr, Arc<Mutex<String>>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llm-gateway"));
    for var in [
        "OPENAI_API_KEY",
        "RUST_LOG",
        "GATEWAY_CONFIG",
        "GATEWAY_LISTEN",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .args(["--demo", "--listen", "127.0.0.1:0", "--config"])
        .arg(config_path)
        .env("GATEWAY_DEMO_KEY", CALLER_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_log = Arc::clone(&log);
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.trim().strip_prefix("listening on http://") {
                let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
            }
            out_log.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let err_log = Arc::clone(&log);
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            err_log.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("gateway did not start:\n{}", log.lock().unwrap()));
    (Running(child), addr, log)
}

/// One request; returns the whole response (status line, headers, body).
fn call(addr: SocketAddr, path: &str, credential: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: x\r\n{credential}\r\ncontent-type: application/json\r\n\
         anthropic-version: 2023-06-01\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn chat(model: &str, stream: bool) -> String {
    format!(
        r#"{{"model":"{model}","stream":{stream},"max_tokens":8,"messages":[{{"role":"user","content":"hi"}}]}}"#
    )
}

/// Plays every fault through every provider and both dialects, streamed and not, and the
/// refused callers; all at once (the hangs wait for the first-byte timeout). Returns the
/// replies that must show no secret (not those echoing what the caller sent itself).
fn play_every_fault(addr: SocketAddr) -> Vec<String> {
    let bearer = format!("authorization: Bearer {CALLER_KEY}");
    let mut calls = Vec::new();
    for fault in FAULTS {
        for provider in ["openai", "gemini", "anthropic"] {
            for stream in [false, true] {
                let body = chat(&format!("{provider}-{fault}"), stream);
                calls.push(("/v1/chat/completions", bearer.clone(), body.clone()));
                calls.push(("/v1/messages", format!("x-api-key: {CALLER_KEY}"), body));
            }
        }
    }
    for credential in [
        format!("authorization: Bearer {WRONG_CALLER_KEY}"),
        format!("x-api-key: {WRONG_CALLER_KEY}"),
        format!("authorization: Bearer {JWT}"),
        format!("authorization: Bearer {ADMIN_TOKEN}x"),
    ] {
        calls.push((
            "/v1/chat/completions",
            credential,
            chat("openai-echo-401", false),
        ));
    }
    let checked = calls.len();
    // Callers who paste a secret where a name goes: the model, the request id.
    for secret in [CALLER_KEY, WRONG_CALLER_KEY, JWT, OPENAI_KEY] {
        calls.push(("/v1/chat/completions", bearer.clone(), chat(secret, false)));
        calls.push((
            "/v1/chat/completions",
            format!("{bearer}\r\nx-request-id: {secret}"),
            chat("openai-echo-400", false),
        ));
    }
    thread::scope(|scope| {
        let running: Vec<_> = calls
            .iter()
            .map(|(path, credential, body)| scope.spawn(move || call(addr, path, credential, body)))
            .collect();
        let mut replies: Vec<String> = running.into_iter().map(|t| t.join().unwrap()).collect();
        replies.truncate(checked);
        replies
    })
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [
        OPENAI_KEY,
        GEMINI_KEY,
        ANTHROPIC_KEY,
        ADMIN_TOKEN,
        CALLER_KEY,
        WRONG_CALLER_KEY,
        JWT,
    ] {
        // the distinctive middle of each secret: a partial leak counts too
        let core = &secret[8..secret.len() - 4];
        assert!(
            !text.contains(core),
            "{what} shows a secret ({secret}):\n{}",
            text.lines()
                .filter(|l| l.contains(core))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn run_scenarios(format: &str) {
    let upstream = start_upstream();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, config(upstream, format)).unwrap();
    let (running, addr, log) = start(&path);
    let replies = play_every_fault(addr);
    // The faults were really played: the upstream's errors reached the callers.
    assert!(
        replies.iter().any(|r| r.starts_with("HTTP/1.1 401")),
        "no refused caller"
    );
    assert!(
        replies
            .iter()
            .any(|r| r.starts_with("HTTP/1.1 502") || r.starts_with("HTTP/1.1 504")),
        "no upstream failure reached a caller"
    );
    for reply in &replies {
        assert_no_secret("a reply", reply);
    }
    drop(running);
    let log = log.lock().unwrap().clone();
    // Debug level logged the upstream failures: the log is not trivially empty.
    assert!(
        log.lines().count() > FAULTS.len(),
        "too few log lines:\n{log}"
    );
    assert!(log.contains("[redacted]"), "nothing was masked:\n{log}");
    assert_no_secret(&format!("the {format} log"), &log);
}

#[test]
fn no_secret_in_text_logs_under_every_fault() {
    run_scenarios("text");
}

#[test]
fn no_secret_in_json_logs_under_every_fault() {
    run_scenarios("json");
}
