//! The load generators' HTTP/1.1 client (std threads, no async runtime, one connection per
//! call): sends a request and reads the answer to its end, its status and body returned, or
//! why there was no answer. Shared by `cargo xtask soak` and `cargo xtask chaos`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One request to send.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    /// Extra header lines, each `name: value`.
    pub headers: Vec<String>,
    pub body: String,
}

impl Call {
    /// `POST path` with a JSON body and a bearer credential.
    pub fn post_json(path: &str, bearer: &str, body: String) -> Self {
        Self {
            method: "POST",
            path: path.to_owned(),
            headers: vec![
                format!("authorization: Bearer {bearer}"),
                "content-type: application/json".to_owned(),
            ],
            body,
        }
    }

    /// `GET path` without credentials.
    pub fn get(path: &str) -> Self {
        Self {
            method: "GET",
            path: path.to_owned(),
            headers: Vec::new(),
            body: String::new(),
        }
    }

    fn to_bytes(&self, addr: SocketAddr) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n",
            self.method,
            self.path,
            self.body.len()
        );
        for line in &self.headers {
            head.push_str(line);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

/// An answer read to its end.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Head and body as received (a chunked body keeps its chunk framing).
    pub text: String,
    pub elapsed: Duration,
}

impl Answer {
    /// Whether a streamed answer reached `data: [DONE]`.
    pub fn stream_done(&self) -> bool {
        self.text.contains("data: [DONE]")
    }
}

/// Sends `call` to `addr` and reads the answer until the server closes; `timeout` bounds
/// the connect and every read (an answer that stalls that long is an error).
pub fn send(addr: SocketAddr, call: &Call, timeout: Duration) -> Result<Answer, String> {
    let started = Instant::now();
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("socket: {e}"))?;
    stream
        .write_all(&call.to_bytes(addr))
        .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = parse_status(&text).ok_or_else(|| {
        let shown: String = text.chars().take(80).collect();
        format!("no HTTP answer (got {shown:?})")
    })?;
    Ok(Answer {
        status,
        text,
        elapsed: started.elapsed(),
    })
}

/// The status code of an `HTTP/1.1 200 OK` status line.
pub fn parse_status(text: &str) -> Option<u16> {
    let line = text.lines().next()?;
    let mut parts = line.split(' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn status_lines_are_parsed() {
        assert_eq!(parse_status("HTTP/1.1 200 OK\r\n\r\n"), Some(200));
        assert_eq!(parse_status("HTTP/1.1 429 Too Many\r\n"), Some(429));
        assert_eq!(parse_status("garbage"), None);
        assert_eq!(parse_status(""), None);
    }

    #[test]
    fn a_call_is_sent_and_its_answer_read_to_the_end() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .unwrap();
            request
        });
        let call = Call::post_json("/v1/x", "k", "{}".into());
        let answer = send(addr, &call, Duration::from_secs(5)).unwrap();
        assert_eq!(answer.status, 200);
        assert!(answer.text.ends_with("ok"));
        let request = server.join().unwrap();
        assert!(request.starts_with("POST /v1/x HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("authorization: Bearer k\r\n"));
        assert!(request.ends_with("\r\n\r\n{}"));
    }
}
