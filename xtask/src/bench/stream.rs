//! A small raw HTTP/1.1 client (std threads, no async runtime) for streaming
//! requests: timestamps the first `data:` line (time to first token) and reads to
//! `data: [DONE]`, flagging a stream that goes silent as stalled.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Where and what to send.
#[derive(Debug, Clone)]
pub struct StreamRequest {
    pub addr: SocketAddr,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

impl StreamRequest {
    fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Accept: text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.path,
            self.addr,
            self.body.len()
        );
        if let Some(auth) = &self.authorization {
            head.push_str(&format!("Authorization: {auth}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

/// How one stream went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Outcome {
    /// Read to `data: [DONE]`.
    Done,
    /// No byte arrived for the stall timeout.
    Stalled,
    /// Anything else (refused, bad status, closed early).
    Failed(String),
}

/// The result of one streaming request.
#[derive(Debug, Clone)]
pub struct StreamResult {
    pub outcome: Outcome,
    pub ttft: Option<Duration>,
    pub total: Duration,
}

/// An open connection whose request is not sent yet (lets many streams start together).
pub struct Prepared {
    stream: Result<TcpStream, String>,
    request: StreamRequest,
}

/// Connects (without sending) so that the send can be synchronised across threads.
pub fn prepare(request: &StreamRequest, stall_timeout: Duration) -> Prepared {
    let stream = TcpStream::connect_timeout(&request.addr, Duration::from_secs(5))
        .and_then(|s| {
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(stall_timeout))?;
            s.set_write_timeout(Some(stall_timeout))?;
            Ok(s)
        })
        .map_err(|e| format!("connect: {e}"));
    Prepared {
        stream,
        request: request.clone(),
    }
}

/// Sends one streaming request and reads it to the end.
pub fn run_one(request: &StreamRequest, stall_timeout: Duration) -> StreamResult {
    prepare(request, stall_timeout).send()
}

impl Prepared {
    /// Sends the request and reads the response to `[DONE]`, EOF, an error or a stall.
    pub fn send(self) -> StreamResult {
        let start = Instant::now();
        let mut stream = match self.stream {
            Ok(stream) => stream,
            Err(err) => return failed(err, start),
        };
        if let Err(err) = stream.write_all(&self.request.to_bytes()) {
            return failed(format!("send: {err}"), start);
        }
        let mut parser = ResponseScanner::default();
        let mut ttft = None;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    let why = parser
                        .error()
                        .unwrap_or_else(|| "closed before data: [DONE]".into());
                    return StreamResult {
                        outcome: Outcome::Failed(why),
                        ttft,
                        total: start.elapsed(),
                    };
                }
                Ok(n) => {
                    parser.feed(&buf[..n]);
                    if let Some(err) = parser.error() {
                        return StreamResult {
                            outcome: Outcome::Failed(err),
                            ttft,
                            total: start.elapsed(),
                        };
                    }
                    if ttft.is_none() && parser.saw_data {
                        ttft = Some(start.elapsed());
                    }
                    if parser.saw_done {
                        return StreamResult {
                            outcome: Outcome::Done,
                            ttft,
                            total: start.elapsed(),
                        };
                    }
                }
                Err(err)
                    if matches!(
                        err.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return StreamResult {
                        outcome: Outcome::Stalled,
                        ttft,
                        total: start.elapsed(),
                    };
                }
                Err(err) => return failed(format!("read: {err}"), start),
            }
        }
    }
}

fn failed(why: String, start: Instant) -> StreamResult {
    StreamResult {
        outcome: Outcome::Failed(why),
        ttft: None,
        total: start.elapsed(),
    }
}

/// Incremental parser of an HTTP/1.1 response carrying server-sent events: status,
/// headers, chunked or plain body; records whether a `data:` line and `data: [DONE]`
/// have been seen.
#[derive(Debug, Default)]
pub struct ResponseScanner {
    raw: Vec<u8>,
    head_done: bool,
    status: Option<u16>,
    chunked: bool,
    /// Offset in `raw` of the next unparsed body byte (chunked mode).
    body_pos: usize,
    /// Decoded body.
    body: Vec<u8>,
    /// Offset in `body` up to which lines were scanned.
    scanned: usize,
    bad_chunk: bool,
    pub saw_data: bool,
    pub saw_done: bool,
}

impl ResponseScanner {
    pub fn feed(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
        if !self.head_done {
            let Some(end) = find(&self.raw, b"\r\n\r\n") else {
                return;
            };
            let head = String::from_utf8_lossy(&self.raw[..end]).to_ascii_lowercase();
            self.status = head
                .lines()
                .next()
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|code| code.parse().ok());
            self.chunked = head
                .lines()
                .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
            self.head_done = true;
            self.body_pos = end + 4;
        }
        if self.chunked {
            self.dechunk();
        } else {
            self.body.extend_from_slice(&self.raw[self.body_pos..]);
            self.body_pos = self.raw.len();
        }
        self.scan_lines();
    }

    fn dechunk(&mut self) {
        loop {
            let rest = &self.raw[self.body_pos..];
            let Some(line_end) = find(rest, b"\r\n") else {
                return;
            };
            let size_text = String::from_utf8_lossy(&rest[..line_end]);
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let Ok(size) = usize::from_str_radix(size_text, 16) else {
                self.bad_chunk = true;
                return;
            };
            let needed = line_end + 2 + size + 2;
            if rest.len() < needed {
                return;
            }
            let data_start = self.body_pos + line_end + 2;
            self.body
                .extend_from_slice(&self.raw[data_start..data_start + size]);
            self.body_pos += needed;
            if size == 0 {
                return;
            }
        }
    }

    fn scan_lines(&mut self) {
        while let Some(nl) = find(&self.body[self.scanned..], b"\n") {
            let line = &self.body[self.scanned..self.scanned + nl];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(data) = line.strip_prefix(b"data:") {
                self.saw_data = true;
                if data.trim_ascii() == b"[DONE]" {
                    self.saw_done = true;
                }
            }
            self.scanned += nl + 1;
        }
    }

    /// Why the response cannot be a good stream, once that is known.
    pub fn error(&self) -> Option<String> {
        if self.bad_chunk {
            return Some("malformed chunked body".into());
        }
        match self.status {
            Some(200) | None => None,
            Some(code) => {
                let body = String::from_utf8_lossy(&self.body);
                Some(format!(
                    "status {code}: {}",
                    body.chars().take(200).collect::<String>()
                ))
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    const SSE_HEAD: &str =
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";

    fn chunk(data: &str) -> String {
        format!("{:x}\r\n{data}\r\n", data.len())
    }

    #[test]
    fn scanner_handles_chunks_split_anywhere() {
        let event1 = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n";
        let full = format!(
            "{SSE_HEAD}{}{}{}0\r\n\r\n",
            chunk(event1),
            chunk("data: [DO"),
            chunk("NE]\n\n")
        );
        for split in [1, 7, SSE_HEAD.len() + 3, full.len() - 4] {
            let mut scanner = ResponseScanner::default();
            scanner.feed(&full.as_bytes()[..split]);
            scanner.feed(&full.as_bytes()[split..]);
            assert!(scanner.saw_data && scanner.saw_done, "split at {split}");
            assert_eq!(scanner.error(), None);
        }
    }

    #[test]
    fn scanner_reports_bad_status_and_plain_bodies() {
        let mut scanner = ResponseScanner::default();
        scanner.feed(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 9\r\n\r\nbad key\n");
        assert!(scanner.error().unwrap().starts_with("status 401: bad key"));
        let mut plain = ResponseScanner::default();
        plain.feed(b"HTTP/1.1 200 OK\r\n\r\ndata: a\n\n");
        assert!(plain.saw_data && !plain.saw_done);
        plain.feed(b"data: [DONE]\n\n");
        assert!(plain.saw_done);
    }

    /// Serves one connection with `script` after reading the request head.
    fn serve_once(script: impl FnOnce(&mut TcpStream) + Send + 'static) -> StreamRequest {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let mut seen = Vec::new();
            while find(&seen, b"\r\n\r\n").is_none() {
                let n = conn.read(&mut buf).unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            script(&mut conn);
        });
        StreamRequest {
            addr,
            path: "/v1/chat/completions".into(),
            authorization: Some("Bearer k".into()),
            body: "{\"stream\":true}".into(),
        }
    }

    #[test]
    fn complete_stream_records_time_to_first_token() {
        let request = serve_once(|conn| {
            conn.write_all(SSE_HEAD.as_bytes()).unwrap();
            thread::sleep(Duration::from_millis(30));
            conn.write_all(chunk("data: {}\n\n").as_bytes()).unwrap();
            thread::sleep(Duration::from_millis(30));
            conn.write_all(chunk("data: [DONE]\n\n").as_bytes())
                .unwrap();
            conn.write_all(b"0\r\n\r\n").unwrap();
        });
        let result = run_one(&request, Duration::from_secs(5));
        assert_eq!(result.outcome, Outcome::Done);
        let ttft = result.ttft.unwrap();
        assert!(
            ttft >= Duration::from_millis(25) && ttft <= result.total,
            "{result:?}"
        );
    }

    #[test]
    fn silent_stream_is_stalled_and_early_close_fails() {
        let stalled = serve_once(|conn| {
            conn.write_all(SSE_HEAD.as_bytes()).unwrap();
            conn.write_all(chunk("data: {}\n\n").as_bytes()).unwrap();
            thread::sleep(Duration::from_secs(2));
        });
        let result = run_one(&stalled, Duration::from_millis(300));
        assert_eq!(result.outcome, Outcome::Stalled);
        assert!(result.ttft.is_some());

        let closed = serve_once(|conn| {
            conn.write_all(SSE_HEAD.as_bytes()).unwrap();
            conn.write_all(chunk("data: {}\n\n").as_bytes()).unwrap();
        });
        let result = run_one(&closed, Duration::from_secs(5));
        assert!(
            matches!(result.outcome, Outcome::Failed(ref why) if why.contains("closed before")),
            "{result:?}"
        );
    }
}
