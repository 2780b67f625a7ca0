//! Running one tutorial's blocks in order, as a reader would in one terminal: in a fresh
//! directory, with what earlier shell blocks exported still set, with the debug binaries and
//! the venv's Python first on `PATH`, and the gateway's well-known ports moved to free ones.
//! Whatever a tutorial leaves running is stopped afterwards, success or not.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::extract::{Block, Lang};
use crate::Result;

/// Ports the tutorials spell (gateway, a second gateway, mock providers, an OTLP receiver,
/// Prometheus). Each run replaces `127.0.0.1:PORT` and `localhost:PORT` by a free port, so
/// the text shows the usual ports and runs never collide with a service already there. A
/// tutorial therefore always gives the gateway its address (`--listen 127.0.0.1:8080` or
/// `server.listen`), never relying on the default.
const PORTS: &[u16] = &[8080, 8081, 8443, 9001, 9002, 9003, 4318, 9090];
/// The longest one block may run.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(180);
/// Environment variables a fresh machine does not have: a developer's own settings must not
/// leak into a tutorial run (a key, a config path, a gateway URL).
const CLEARED_PREFIXES: &[&str] = &[
    "GATEWAY_",
    "OPENAI_",
    "ANTHROPIC_",
    "GEMINI_",
    "GROQ_",
    "OPENROUTER_",
    "LLM_GATEWAY",
    "RUST_LOG",
];

/// Where a tutorial runs.
pub struct Setup<'a> {
    /// Directories put first on `PATH` (the debug binaries, the venv's `bin`).
    pub path_dirs: &'a [PathBuf],
    /// The fresh working directory.
    pub work_dir: &'a Path,
    /// A unique marker put in every process's environment, to find what is left running.
    pub run_id: &'a str,
    /// The repository, as `GATEWAY_REPO` (the tutorials that build code ask the reader for
    /// the directory of their clone under that name).
    pub repo: &'a Path,
}

/// Runs `blocks` in order; the first failing block fails the tutorial.
pub fn run_blocks(name: &str, blocks: &[Block], setup: &Setup<'_>) -> Result<()> {
    let ports = free_ports()?;
    let state = setup.work_dir.join(".tutorial-env.sh");
    let result = (|| {
        for (index, block) in blocks.iter().enumerate() {
            let code = with_ports(&block.code, &ports);
            println!(
                "--- {name}: block {}/{} (line {}, {}) ---",
                index + 1,
                blocks.len(),
                block.line,
                match block.lang {
                    Lang::Shell => "sh",
                    Lang::Python => "python",
                }
            );
            let started = Instant::now();
            run_block(block.lang, &code, index, &state, setup)
                .map_err(|e| format!("{name}: the block at line {} failed: {e}", block.line))?;
            println!("--- ok in {:.1?}", started.elapsed());
        }
        Ok(())
    })();
    if result.is_err() {
        print_logs(setup.work_dir);
    }
    stop_leftovers(setup.run_id);
    result
}

fn run_block(
    lang: Lang,
    code: &str,
    index: usize,
    state: &Path,
    setup: &Setup<'_>,
) -> std::result::Result<(), String> {
    let dir = setup.work_dir.join(".tutorial");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut cmd = Command::new("bash");
    match lang {
        Lang::Shell => {
            let script = dir.join(format!("block-{index}.sh"));
            // The reader's shell: errors stop the block; exports carry to the next ones.
            let text = format!(
                "set -eo pipefail\nif [ -f \"$TUTORIAL_STATE\" ]; then source \"$TUTORIAL_STATE\"; fi\n\
                 {code}\nexport -p > \"$TUTORIAL_STATE\"\n"
            );
            std::fs::write(&script, text).map_err(|e| e.to_string())?;
            cmd.arg(script);
        }
        Lang::Python => {
            let script = dir.join(format!("block-{index}.py"));
            std::fs::write(&script, code).map_err(|e| e.to_string())?;
            cmd.arg("-c")
                .arg(
                    "if [ -f \"$TUTORIAL_STATE\" ]; then source \"$TUTORIAL_STATE\"; fi; \
                     exec python3 \"$1\"",
                )
                .arg("tutorial-python")
                .arg(script);
        }
    }
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if CLEARED_PREFIXES.iter().any(|p| text.starts_with(p)) {
            cmd.env_remove(&name);
        }
    }
    let mut path = setup.path_dirs.to_vec();
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).map_err(|e| e.to_string())?;
    let mut child = cmd
        .current_dir(setup.work_dir)
        .env("GATEWAY_REPO", setup.repo)
        // The repository's Python SDK, as `pip install ./sdks/python` would provide it.
        .env("PYTHONPATH", setup.repo.join("sdks/python/src"))
        .env("PATH", path)
        .env("TUTORIAL_RUN", setup.run_id)
        .env("TUTORIAL_STATE", state)
        .env("PYTHONUNBUFFERED", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start bash: {e}"))?;
    let deadline = Instant::now() + BLOCK_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("it exited with {status}"))
            };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("it ran longer than {BLOCK_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A free loopback port for each of [`PORTS`], in order.
fn free_ports() -> Result<Vec<(u16, u16)>> {
    // Hold every listener until all are chosen, so no two are the same.
    let listeners: Vec<TcpListener> = PORTS
        .iter()
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<_>>()?;
    let mut out = Vec::new();
    for (port, listener) in PORTS.iter().zip(&listeners) {
        out.push((*port, listener.local_addr()?.port()));
    }
    Ok(out)
}

/// `code` with every `127.0.0.1:PORT` and `localhost:PORT` of [`PORTS`] moved.
pub fn with_ports(code: &str, ports: &[(u16, u16)]) -> String {
    let mut out = code.to_owned();
    for (from, to) in ports {
        for host in ["127.0.0.1", "localhost"] {
            out = replace_port(&out, &format!("{host}:{from}"), &format!("{host}:{to}"));
        }
    }
    out
}

/// Replaces `from` where it is not followed by another digit (`:80801` is another port).
fn replace_port(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let after = rest.get(at + from.len()..).unwrap_or_default();
        out.push_str(rest.get(..at).unwrap_or_default());
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The last lines of every `*.log` file the tutorial wrote (a gateway started in the
/// background logs there), to see why a block failed.
fn print_logs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "log")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(40);
            println!(
                "---- {} (last {} lines) ----",
                path.display(),
                lines.len() - start
            );
            for line in lines.get(start..).unwrap_or_default() {
                println!("{line}");
            }
        }
    }
}

/// Stops every process whose environment carries this run's marker: SIGTERM, then SIGKILL
/// after five seconds. Only processes this run started carry it.
fn stop_leftovers(run_id: &str) {
    let marker = format!("TUTORIAL_RUN={run_id}");
    let mut pids = marked_processes(&marker);
    if pids.is_empty() {
        return;
    }
    println!("stopping what the tutorial left running: {pids:?}");
    signal("TERM", &pids);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pids.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        pids = marked_processes(&marker);
    }
    if !pids.is_empty() {
        signal("KILL", &pids);
    }
}

fn signal(name: &str, pids: &[u32]) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status();
}

fn marked_processes(marker: &str) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                env.split(|b| *b == 0)
                    .any(|entry| entry == marker.as_bytes())
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_moved_only_when_whole() {
        let ports = [(8080, 41000), (9001, 42000)];
        assert_eq!(
            with_ports(
                "curl http://127.0.0.1:8080/v1 localhost:9001 127.0.0.1:80801 0.0.0.0:8080",
                &ports
            ),
            "curl http://127.0.0.1:41000/v1 localhost:42000 127.0.0.1:80801 0.0.0.0:8080"
        );
    }

    #[test]
    fn free_ports_are_distinct() {
        let ports = free_ports().unwrap();
        let mut seen: Vec<u16> = ports.iter().map(|p| p.1).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), PORTS.len());
    }
}
