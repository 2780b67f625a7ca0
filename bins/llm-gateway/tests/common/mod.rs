//! The gateway binary as a child process, for the tests that need a real process (limits
//! across processes, SIGKILL, descriptor limits).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running gateway, killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `cmd` (the gateway, or a shell that execs it) without the environment variables
/// that would change its configuration, and waits for its "listening on" line. Returns the
/// process and its `host:port`; the caller chooses where stderr goes.
pub fn spawn_listening(mut cmd: Command) -> (Running, String) {
    let mut child = cmd
        .env_remove("GATEWAY_CONFIG")
        .env_remove("GATEWAY_LISTEN")
        .env_remove("OPENAI_API_KEY")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let running = Running(child);
    loop {
        let line = lines
            .next()
            .expect("the gateway exited before listening")
            .unwrap();
        if let Some(addr) = line.trim().strip_prefix("listening on http://") {
            return (running, addr.to_owned());
        }
    }
}
