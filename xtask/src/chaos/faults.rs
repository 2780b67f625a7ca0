//! Faulty peers for the fault suite: an upstream that misbehaves on purpose (chosen by the
//! model name it is asked for) and a flood of idle client connections. Everything is on
//! loopback, bounded in count and time.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::Result;

/// How long any fault may hold a connection, whatever it plays.
const FAULT_BOUND: Duration = Duration::from_secs(20);

/// The faults, by upstream model name.
pub const FAULTS: [&str; 5] = [
    "fault-reset",
    "fault-drip",
    "fault-hang",
    "fault-garbage",
    "fault-ping",
];

/// An upstream that plays the fault named in each request, until dropped.
pub struct FaultUpstream {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl FaultUpstream {
    pub fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let flag = Arc::clone(&flag);
                        thread::spawn(move || play(stream, &flag));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(Self { addr, stop })
    }
}

impl Drop for FaultUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads a request head and as much body as arrives at once (enough to see the model).
fn read_request(stream: &mut TcpStream) -> String {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        if text.contains("\r\n\r\n") && text.contains("\"model\"") {
            break;
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

fn play(mut stream: TcpStream, stop: &AtomicBool) {
    let request = read_request(&mut stream);
    let fault = FAULTS
        .iter()
        .find(|f| request.contains(*f))
        .copied()
        .unwrap_or("fault-reset");
    let started = Instant::now();
    let held = || started.elapsed() < FAULT_BOUND && !stop.load(Ordering::Relaxed);
    let sse_head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                    transfer-encoding: chunked\r\n\r\n";
    match fault {
        "fault-reset" => {} // closed without a word
        "fault-garbage" => {
            let _ = stream.write_all(b"\x16\x03\x01garbage\x00\xff not http at all\r\n\r\n");
        }
        "fault-hang" => {
            while held() {
                thread::sleep(Duration::from_millis(100));
            }
        }
        "fault-drip" => {
            // A valid stream head, then one byte every 200 ms of a chunk that never ends.
            let _ = stream.write_all(sse_head.as_bytes());
            let _ = stream.write_all(b"1000\r\ndata: {\"id\":\"x\",\"choices\":[");
            while held() && stream.write_all(b" ").is_ok() {
                thread::sleep(Duration::from_millis(200));
            }
        }
        _ => {
            // `fault-ping`: SSE comments only, never an event.
            let _ = stream.write_all(sse_head.as_bytes());
            while held() && stream.write_all(b"9\r\n: ping\n\n\r\n").is_ok() {
                thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// Idle connections held open against a server.
pub struct IdleFlood {
    conns: Vec<TcpStream>,
}

impl IdleFlood {
    /// Opens `count` connections to `addr`: every fourth sends half an HTTP/2 preface, every
    /// fourth half a request head, the rest nothing. Stops early when connects fail.
    pub fn open(addr: SocketAddr, count: usize) -> Self {
        let mut conns = Vec::with_capacity(count);
        for i in 0..count {
            let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
                break;
            };
            let _ = match i % 4 {
                1 => conn.write_all(b"PRI * HTTP/2.0\r\n"),
                2 => conn.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n"),
                _ => Ok(()),
            };
            conns.push(conn);
        }
        Self { conns }
    }

    pub fn opened(&self) -> usize {
        self.conns.len()
    }

    /// How many of the connections the server has closed (EOF or reset) by now.
    pub fn closed_by_server(&self) -> usize {
        self.conns.iter().filter(|c| is_closed(c)).count()
    }
}

fn is_closed(conn: &TcpStream) -> bool {
    if conn.set_nonblocking(true).is_err() {
        return true;
    }
    let mut buf = [0u8; 256];
    let mut reader = conn;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {} // an error answer or the like: keep reading
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_connections_closed_by_the_server_are_counted() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let flood = IdleFlood::open(addr, 4);
        assert_eq!(flood.opened(), 4);
        let mut accepted: Vec<TcpStream> = (0..4).map(|_| listener.accept().unwrap().0).collect();
        assert_eq!(flood.closed_by_server(), 0);
        accepted.truncate(1);
        let deadline = Instant::now() + Duration::from_secs(5);
        while flood.closed_by_server() < 3 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(flood.closed_by_server(), 3);
    }

    #[test]
    fn the_fault_upstream_hangs_up_on_reset() {
        let upstream = FaultUpstream::start().unwrap();
        let mut conn = TcpStream::connect(upstream.addr).unwrap();
        conn.write_all(
            b"POST / HTTP/1.1\r\ncontent-length: 25\r\n\r\n{\"model\":\"fault-reset\"}  ",
        )
        .unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut out = Vec::new();
        let _ = conn.read_to_end(&mut out);
        assert!(out.is_empty());
    }
}
