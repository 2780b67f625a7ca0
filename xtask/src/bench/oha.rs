//! The HTTP load generator: `oha` from crates.io, installed on first use, run with
//! JSON output and parsed into a [`LoadResult`].

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::Result;
use crate::util::{cargo, find_on_path, run_status};

/// oha's error label for requests cut off by `-z` (not a failure of the target).
const DEADLINE_ABORT: &str = "aborted due to deadline";

/// One load run's request.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub url: String,
    pub body: String,
    pub authorization: Option<String>,
    pub concurrency: u32,
    /// Requests per second in total (`-q`); `None` = as fast as possible.
    pub rate: Option<u32>,
    pub duration: Duration,
}

/// What one load run measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadResult {
    /// 2xx responses per second of run time.
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    /// 2xx responses.
    pub ok: u64,
    /// Responses with another status.
    pub non_2xx: u64,
    /// Connection-level errors (deadline cut-offs excluded).
    pub errors: u64,
    /// An example of what went wrong, when something did.
    pub first_error: Option<String>,
}

/// A located oha binary.
pub struct Oha {
    bin: PathBuf,
}

impl Oha {
    /// Finds oha, or installs it with `cargo install oha --locked` (once; a few minutes).
    pub fn ensure() -> Result<Self> {
        if let Some(bin) = locate() {
            return Ok(Self { bin });
        }
        println!(
            "oha not found: installing it (cargo install oha --locked; takes a few minutes, once)"
        );
        run_status(Command::new(cargo()).args(["install", "oha", "--locked"]))?;
        locate()
            .map(|bin| Self { bin })
            .ok_or_else(|| "oha installed but not found on PATH or in ~/.cargo/bin".into())
    }

    /// Runs one load and parses its JSON summary.
    pub fn run(&self, spec: &LoadSpec) -> Result<LoadResult> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--no-tui", "--output-format", "json", "-m", "POST"])
            .args(["-z", &format!("{}ms", spec.duration.as_millis())])
            .args(["-c", &spec.concurrency.to_string()])
            .args(["-T", "application/json", "-d", &spec.body]);
        if let Some(rate) = spec.rate {
            cmd.args(["-q", &rate.to_string(), "--latency-correction"]);
        }
        if let Some(auth) = &spec.authorization {
            cmd.args(["-H", &format!("Authorization: {auth}")]);
        }
        cmd.arg(&spec.url);
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        if !out.status.success() {
            return Err(format!(
                "oha failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        parse(&String::from_utf8_lossy(&out.stdout))
    }
}

fn locate() -> Option<PathBuf> {
    find_on_path("oha").or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        Some(home.join("bin/oha")).filter(|p| p.is_file())
    })
}

/// Parses `oha --output-format json` (times in seconds).
pub fn parse(json: &str) -> Result<LoadResult> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| format!("unreadable oha output: {e}"))?;
    let summary = value.get("summary").ok_or("oha output has no summary")?;
    let total_secs = summary.get("total").and_then(Value::as_f64).unwrap_or(0.0);
    let percentile = |key: &str| {
        value
            .get("latencyPercentiles")
            .and_then(|p| p.get(key))
            .and_then(Value::as_f64)
            .map_or(f64::NAN, |secs| secs * 1000.0)
    };
    let mut ok = 0;
    let mut non_2xx = 0;
    let mut first_error = None;
    if let Some(codes) = value
        .get("statusCodeDistribution")
        .and_then(Value::as_object)
    {
        for (code, count) in codes {
            let count = count.as_u64().unwrap_or(0);
            if code.starts_with('2') {
                ok += count;
            } else {
                non_2xx += count;
                first_error.get_or_insert_with(|| format!("HTTP {code}"));
            }
        }
    }
    let mut errors = 0;
    if let Some(dist) = value.get("errorDistribution").and_then(Value::as_object) {
        for (error, count) in dist {
            if error.contains(DEADLINE_ABORT) {
                continue;
            }
            errors += count.as_u64().unwrap_or(0);
            first_error.get_or_insert_with(|| error.clone());
        }
    }
    let rps = if total_secs > 0.0 {
        ok as f64 / total_secs
    } else {
        0.0
    };
    Ok(LoadResult {
        rps,
        p50_ms: percentile("p50"),
        p99_ms: percentile("p99"),
        p999_ms: percentile("p99.9"),
        ok,
        non_2xx,
        errors,
        first_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "summary": {"successRate": 1.0, "total": 2.0, "slowest": 0.01, "fastest": 0.0001,
                  "average": 0.001, "requestsPerSec": 1510.0},
      "latencyPercentiles": {"p10": 0.0005, "p50": 0.001, "p90": 0.002, "p99": 0.004,
                             "p99.9": 0.008, "p99.99": 0.009},
      "statusCodeDistribution": {"200": 3000, "429": 20},
      "errorDistribution": {"aborted due to deadline": 16, "connection refused": 2}
    }"#;

    #[test]
    fn parses_oha_json() {
        let result = parse(SAMPLE).unwrap();
        assert_eq!(result.ok, 3000);
        assert_eq!(result.non_2xx, 20);
        assert_eq!(result.errors, 2);
        assert!((result.rps - 1500.0).abs() < 1e-9);
        assert!((result.p50_ms - 1.0).abs() < 1e-9);
        assert!((result.p999_ms - 8.0).abs() < 1e-9);
        assert_eq!(result.first_error.as_deref(), Some("HTTP 429"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse("not json").is_err());
        assert!(parse("{}").is_err());
    }
}
