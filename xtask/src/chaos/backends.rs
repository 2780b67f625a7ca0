//! Private Redis and PostgreSQL servers for the fault suite, on free loopback ports with
//! their data in a scratch directory, so that they can be stopped and restarted under load
//! without touching the shared ones (6379, 5432). PostgreSQL refuses to run as root: when
//! xtask runs as root, `initdb`, `pg_ctl` and `psql` run as the `postgres` user (`runuser`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::bench::procs::{Service, free_port};
use crate::util::find_on_path;

/// A private `redis-server` (no persistence) that can be stopped and started again on its port.
pub struct PrivateRedis {
    pub port: u16,
    dir: PathBuf,
    server: Option<Service>,
}

impl PrivateRedis {
    pub fn start(dir: &Path) -> Result<Self> {
        let mut redis = Self {
            port: free_port()?,
            dir: dir.join("redis"),
            server: None,
        };
        std::fs::create_dir_all(&redis.dir)?;
        redis.resume()?;
        Ok(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server again (after [`PrivateRedis::stop`]) on the same port.
    pub fn resume(&mut self) -> Result<()> {
        let bin = find_on_path("redis-server").ok_or("redis-server is not installed")?;
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir);
        let mut server = Service::spawn("redis-server", cmd)?;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        server.wait_ready(Some(addr), Duration::from_secs(20))?;
        self.server = Some(server);
        Ok(())
    }

    /// SIGKILL: Redis vanishes as in a crash.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = super::super::soak::stack::kill_hard(server.pid());
            drop(server);
        }
    }
}

/// A private PostgreSQL cluster (trust authentication, user `postgres`).
pub struct PrivatePostgres {
    pub port: u16,
    data: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

fn postgres_bin_dir() -> Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| {
            format!(
                "PostgreSQL server binaries not found under {}: {e}",
                root.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").is_file())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| "no pg_ctl under /usr/lib/postgresql/*/bin".into())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PrivatePostgres {
    pub fn start(dir: &Path) -> Result<Self> {
        let pg = Self {
            port: free_port()?,
            data: dir.join("pgdata"),
            bin: postgres_bin_dir()?,
            as_postgres: running_as_root(),
        };
        if pg.as_postgres {
            // the postgres user must reach and own its directory
            std::fs::create_dir_all(&pg.data)?;
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:postgres"]).arg(dir);
            crate::util::run_status(&mut chown)?;
            let mut chmod = Command::new("chmod");
            chmod.args(["o+rx"]).arg(dir);
            crate::util::run_status(&mut chmod)?;
        }
        pg.tool("initdb", |c| {
            c.args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(&pg.data);
        })?;
        pg.resume()?;
        Ok(pg)
    }

    /// Runs `tool` (as `postgres` when we are root), quietly; an error with its output if it fails.
    fn tool(&self, tool: &str, args: impl FnOnce(&mut Command)) -> Result<String> {
        let path = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        args(&mut cmd);
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {tool}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{tool} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the cluster and waits until it answers.
    pub fn resume(&self) -> Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.display()
        );
        self.tool("pg_ctl", |c| {
            c.arg("-D")
                .arg(&self.data)
                .args(["-o", &options, "-l"])
                .arg(self.data.join("log"))
                .args(["-w", "-t", "30", "start"]);
        })?;
        Ok(())
    }

    /// Immediate shutdown: every connection is cut, as in a crash.
    pub fn stop(&self) -> Result<()> {
        self.tool("pg_ctl", |c| {
            c.arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"]);
        })?;
        Ok(())
    }

    /// The single number a query returns.
    pub fn count(&self, sql: &str) -> Result<u64> {
        let psql = self.bin.join("psql");
        let psql = if psql.is_file() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let out = Command::new(psql)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "postgres", "-tAc", sql])
            .stdin(Stdio::null())
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim().parse().map_err(|_| {
            format!(
                "psql `{sql}`: {}{}",
                text.trim(),
                String::from_utf8_lossy(&out.stderr)
            )
            .into()
        })
    }

    /// Polls `sql` until its count stays the same for `still` (the writers flushed), at most `max`.
    pub fn settled_count(&self, sql: &str, still: Duration, max: Duration) -> Result<u64> {
        let deadline = Instant::now() + max;
        let mut last = self.count(sql)?;
        let mut since = Instant::now();
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(250));
            let now = self.count(sql)?;
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed() >= still {
                break;
            }
        }
        Ok(last)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.tool("pg_ctl", |c| {
            c.arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"]);
        });
    }
}
