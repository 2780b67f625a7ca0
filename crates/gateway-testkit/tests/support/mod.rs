//! A tiny raw HTTP/1.1 client, so that the tests see exactly what goes over the wire
//! (chunk framing, an abruptly closed connection).
// Test-only helpers: a failed expectation should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The message ended properly (full content-length, or the last chunk of a chunked body).
    pub complete: bool,
    /// When each read of the body returned data, relative to the request being sent.
    pub arrivals: Vec<Duration>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// The `data:` payloads of an SSE body, in order.
    pub fn sse_data(&self) -> Vec<String> {
        self.text()
            .split("\n\n")
            .filter_map(|event| event.strip_prefix("data: "))
            .map(str::to_owned)
            .collect()
    }
}

pub async fn post(addr: SocketAddr, path: &str, body: &serde_json::Value) -> RawResponse {
    request(addr, "POST", path, &[], &body.to_string()).await
}

pub async fn get(addr: SocketAddr, path: &str) -> RawResponse {
    request(addr, "GET", path, &[], "").await
}

/// Sends one request with `connection: close` and reads until the server closes.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra_headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let sent = Instant::now();

    let mut raw = Vec::new();
    let mut arrivals = Vec::new();
    let mut buf = [0_u8; 16 * 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                raw.extend_from_slice(&buf[..n]);
                arrivals.push(sent.elapsed());
            }
            Err(_) => panic!("no response within 10 s"),
        }
    }
    parse(&raw, arrivals)
}

fn parse(raw: &[u8], arrivals: Vec<Duration>) -> RawResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let (body, complete) = if find("transfer-encoding").as_deref() == Some("chunked") {
        dechunk(rest)
    } else {
        let length: usize = find("content-length").map_or(rest.len(), |v| v.parse().unwrap());
        (
            rest[..length.min(rest.len())].to_vec(),
            rest.len() >= length,
        )
    };
    RawResponse {
        status,
        headers,
        body,
        complete,
        arrivals,
    }
}

/// Decodes a chunked body; `complete` is true only if the terminating zero-size chunk came.
fn dechunk(mut rest: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return (body, false);
        };
        let size_text = std::str::from_utf8(&rest[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        rest = &rest[line_end + 2..];
        if size == 0 {
            return (body, true);
        }
        if rest.len() < size {
            body.extend_from_slice(rest);
            return (body, false);
        }
        body.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}
