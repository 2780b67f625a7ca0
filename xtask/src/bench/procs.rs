//! Measured processes: spawn, wait until they listen, keep their output tail, and
//! always stop them (a guard whose `Drop` sends SIGTERM, then SIGKILL).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::Result;

const TAIL_LINES: usize = 40;

type Tail = Arc<Mutex<VecDeque<String>>>;

/// A child process that is stopped when dropped.
pub struct Service {
    name: String,
    child: Child,
    tail: Tail,
    listening: Receiver<SocketAddr>,
}

impl Service {
    /// Starts `cmd` with piped stdout/stderr (drained by background threads).
    pub fn spawn(name: &str, mut cmd: Command) -> Result<Self> {
        let shown = crate::util::display_command(&cmd);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {name} (`{shown}`): {e}"))?;
        let tail: Tail = Arc::default();
        let (tx, listening) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            let tail = Arc::clone(&tail);
            thread::spawn(move || {
                pump(stdout, &tail, |line| {
                    if let Some(addr) = parse_listening(line) {
                        let _ = tx.send(addr);
                    }
                });
            });
        }
        if let Some(stderr) = child.stderr.take() {
            let tail = Arc::clone(&tail);
            thread::spawn(move || pump(stderr, &tail, |_| {}));
        }
        Ok(Self {
            name: name.to_owned(),
            child,
            tail,
            listening,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the process prints `listening on http://ADDR`, or, when `known` is
    /// given, until that address accepts TCP connections.
    pub fn wait_ready(
        &mut self,
        known: Option<SocketAddr>,
        timeout: Duration,
    ) -> Result<SocketAddr> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(addr) = self.listening.try_recv() {
                return Ok(addr);
            }
            if let Some(addr) = known
                && TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            {
                return Ok(addr);
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(format!(
                    "{} exited ({status}) before listening; output:\n{}",
                    self.name,
                    self.tail_text()
                )
                .into());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} was not listening after {timeout:?}; output:\n{}",
                    self.name,
                    self.tail_text()
                )
                .into());
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines the process printed (stdout and stderr interleaved).
    pub fn tail_text(&self) -> String {
        let tail = self
            .tail
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// SIGTERM, then SIGKILL if the process is still running after `grace`.
    pub fn stop_within(&mut self, grace: Duration) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop_within(Duration::from_secs(3));
    }
}

fn pump(stream: impl Read, tail: &Tail, mut on_line: impl FnMut(&str)) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        on_line(&line);
        let mut tail = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
}

/// The address in a `listening on http://127.0.0.1:PORT` line.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on http://")? + "listening on http://".len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A free TCP port on 127.0.0.1 (for processes that need one in a config file).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line_is_parsed() {
        let addr = parse_listening("INFO listening on http://127.0.0.1:8080 (pid 3)");
        assert_eq!(addr, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(
            parse_listening("listening on http://127.0.0.1:45001"),
            Some("127.0.0.1:45001".parse().unwrap())
        );
        assert_eq!(parse_listening("starting up"), None);
    }

    #[test]
    fn service_reports_listen_line_and_is_killed_on_drop() {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo 'mock: listening on http://127.0.0.1:4321'; exec sleep 30",
        ]);
        let mut service = Service::spawn("fake", cmd).unwrap();
        let addr = service.wait_ready(None, Duration::from_secs(5)).unwrap();
        assert_eq!(addr.port(), 4321);
        let pid = service.pid();
        drop(service);
        // stopped and reaped: no process (not even a zombie) is left
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn early_exit_is_an_error_with_output() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo boom >&2; exit 3"]);
        let mut service = Service::spawn("broken", cmd).unwrap();
        let err = service
            .wait_ready(None, Duration::from_secs(5))
            .unwrap_err()
            .to_string();
        assert!(err.contains("broken exited"), "{err}");
    }
}
