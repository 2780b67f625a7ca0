//! `cargo xtask chaos`: the fault suite. Three gateways share a private Redis (cache and
//! limits) and a private PostgreSQL (store), in front of `mock-upstream` and a faulty
//! upstream, all on loopback; the scenarios of [`scenarios`] run one after the other and each
//! reports the calls lost, the usage and audit records lost and the time to recover. The run
//! fails when a figure is above its bound in [`BOUNDS`] (docs/security.md lists them).

mod backends;
mod faults;
mod load;
mod scenarios;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use comfy_table::Table;

use crate::Result;
use crate::soak::stack::{GatewaySpec, UPSTREAM_KEY, build_binaries, start_mock};
use crate::soak::tempfile_dir;
use crate::util::banner;
use backends::{PrivatePostgres, PrivateRedis};
use faults::FaultUpstream;
use scenarios::{ADMIN_TOKEN, Finding, World};

/// Options of `cargo xtask chaos`.
#[derive(Args, Debug, Clone)]
pub struct ChaosArgs {
    /// Time budget of the run in seconds (setup included, building not); the load phases
    /// scale with it.
    #[arg(long, default_value_t = 90)]
    pub seconds: u64,
    /// Idle connections of the flood.
    #[arg(long, default_value_t = 500)]
    pub idle_connections: usize,
    /// Use release binaries instead of debug ones.
    #[arg(long)]
    pub release: bool,
    /// Use the binaries already built.
    #[arg(long)]
    pub no_build: bool,
}

/// The most a scenario may lose or take; above it the run fails.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub scenario: &'static str,
    pub lost: usize,
    pub recovery: Duration,
    pub usage_lost: u64,
    pub audit_lost: u64,
}

/// The documented bounds (docs/security.md, "Fault suite"), set from measured runs. A
/// scenario may allow more lost usage records of its own ([`Finding::usage_allowed`]).
pub const BOUNDS: [Bound; 5] = [
    Bound {
        scenario: "idle connection flood",
        lost: 0,
        recovery: Duration::ZERO,
        usage_lost: 0,
        audit_lost: 0,
    },
    Bound {
        scenario: "upstream resets, drips, hangs, garbage, pings",
        lost: 0,
        recovery: Duration::ZERO,
        usage_lost: 0,
        audit_lost: 0,
    },
    Bound {
        scenario: "Redis killed and restarted under load",
        lost: 0,
        recovery: Duration::from_secs(5),
        usage_lost: 0,
        audit_lost: 0,
    },
    Bound {
        scenario: "PostgreSQL stopped and restarted under load",
        lost: 0,
        recovery: Duration::from_secs(5),
        usage_lost: 0,
        audit_lost: 0,
    },
    Bound {
        scenario: "SIGKILL of one of three instances",
        lost: 3,
        recovery: Duration::from_secs(15),
        usage_lost: 0,
        audit_lost: 0,
    },
];

const CONFIG: &str = r#"
[server]
listen = "@LISTEN@"
workers = 1
header_timeout_secs = 2

[logging]
level = "warn"

[store]
database_url = "@PG@"

[admin]
token = "@ADMIN@"

[cache]
enabled = true
backend = "redis"
redis_url = "@REDIS@"

[cache.models.chaos]
enabled = false

[cache.models.demo]
enabled = false

[limits]
backend = "redis"
on_backend_error = "open"

[limits.redis]
url = "@REDIS@"

[limits.key]
rpm = 60000000

[providers.mock]
kind = "openai"
base_url = "http://@MOCK@/v1"
api_key = "@UPSTREAM_KEY@"

[providers.faulty]
kind = "openai"
base_url = "http://@FAULTY@/v1"
api_key = "@UPSTREAM_KEY@"
first_byte_timeout_secs = 2
total_timeout_secs = 3

[models.chaos]
provider = "mock"
upstream_model = "chaos-model"

[models.chaos-cached]
provider = "mock"
upstream_model = "chaos-model"
"#;

fn config(pg: &str, redis: &str, mock: &str, faulty: &str) -> String {
    let mut text = CONFIG
        .replace("@PG@", pg)
        .replace("@REDIS@", redis)
        .replace("@MOCK@", mock)
        .replace("@FAULTY@", faulty)
        .replace("@ADMIN@", ADMIN_TOKEN)
        .replace("@UPSTREAM_KEY@", UPSTREAM_KEY);
    for fault in faults::FAULTS {
        text.push_str(&format!(
            "\n[models.{fault}]\nprovider = \"faulty\"\nupstream_model = \"{fault}\"\n"
        ));
    }
    text
}

/// Runs the suite; the exit code says whether every figure is within its bound.
pub fn run(root: &Path, args: &ChaosArgs) -> Result<ExitCode> {
    Ok(if suite(root, args)? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs the suite and prints its report; true when every figure is within its bound.
pub fn suite(root: &Path, args: &ChaosArgs) -> Result<bool> {
    banner("chaos: building binaries");
    let bin_dir = build_binaries(root, args.release, args.no_build)?;
    // the budget starts once the binaries are built
    let started = Instant::now();
    let scratch = tempfile_dir("chaos")?;
    let findings = {
        banner("chaos: private Redis and PostgreSQL, mock and faulty upstreams, three gateways");
        let redis = PrivateRedis::start(&scratch)?;
        let postgres = PrivatePostgres::start(&scratch)?;
        let (_mock, mock_addr) = start_mock(&bin_dir)?;
        let faulty = FaultUpstream::start()?;
        let text = config(
            &postgres.url(),
            &redis.url(),
            &mock_addr.to_string(),
            &faulty.addr.to_string(),
        );
        let mut specs = Vec::new();
        let mut gateways = Vec::new();
        for i in 0..3 {
            let spec = GatewaySpec::new(&format!("gateway-{i}"), &bin_dir, &scratch, &text)?;
            // one after the other: the first creates the schema and the demo tenant
            gateways.push(Some(spec.start()?));
            specs.push(spec);
        }
        // The load phases share what is left of the budget after setup (6 phase units).
        let left = Duration::from_secs(args.seconds).saturating_sub(started.elapsed());
        let phase = (left / 16).clamp(Duration::from_secs(1), Duration::from_secs(30));
        banner(&format!("chaos: scenarios, load phases of {phase:.1?}"));
        let mut world = World {
            redis,
            postgres,
            specs,
            gateways,
            phase,
        };
        let mut findings = vec![
            scenarios::idle_flood(&world, args.idle_connections),
            scenarios::upstream_faults(&world),
        ];
        findings.push(scenarios::redis_outage(&mut world)?);
        findings.push(scenarios::postgres_outage(&world)?);
        findings.push(scenarios::sigkill_one(&mut world)?);
        // gateways stop (SIGTERM, then SIGKILL) before the backends they write to
        world.gateways.clear();
        findings
    };
    let _ = std::fs::remove_dir_all(&scratch);
    let (table, failures) = report(&findings);
    println!("\n{table}");
    println!("chaos: finished in {:.0?}", started.elapsed());
    if failures.is_empty() {
        println!("chaos: PASSED (every figure within its bound, docs/security.md)");
    } else {
        println!("chaos: FAILED:\n  {}", failures.join("\n  "));
    }
    Ok(failures.is_empty())
}

fn opt(value: Option<u64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| v.to_string())
}

/// The findings as a table, and every figure above its bound.
fn report(findings: &[Finding]) -> (Table, Vec<String>) {
    let mut table = Table::new();
    table.set_header([
        "scenario",
        "calls",
        "lost",
        "recovery",
        "usage lost",
        "audit lost",
        "note",
    ]);
    let mut failures = Vec::new();
    for f in findings {
        table.add_row([
            f.name.to_owned(),
            f.calls.to_string(),
            f.lost.to_string(),
            format!("{:.1?}", f.recovery),
            match f.usage_allowed {
                0 => opt(f.usage_lost),
                allowed => format!("{} (bound {allowed})", opt(f.usage_lost)),
            },
            opt(f.audit_lost),
            f.note.clone(),
        ]);
        let Some(bound) = BOUNDS.iter().find(|b| b.scenario == f.name) else {
            failures.push(format!("{}: no bound documented", f.name));
            continue;
        };
        if f.lost > bound.lost {
            failures.push(format!(
                "{}: {} calls lost (bound {})",
                f.name, f.lost, bound.lost
            ));
        }
        if f.recovery > bound.recovery {
            failures.push(format!(
                "{}: recovery {:.1?} (bound {:.1?})",
                f.name, f.recovery, bound.recovery
            ));
        }
        let usage_bound = bound.usage_lost.max(f.usage_allowed);
        if f.usage_lost.unwrap_or(0) > usage_bound {
            failures.push(format!(
                "{}: {} usage records lost (bound {usage_bound})",
                f.name,
                opt(f.usage_lost),
            ));
        }
        if f.audit_lost.unwrap_or(0) > bound.audit_lost {
            failures.push(format!(
                "{}: {} audit events lost (bound {})",
                f.name,
                opt(f.audit_lost),
                bound.audit_lost
            ));
        }
    }
    (table, failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_every_fault_and_parses() {
        let text = config("postgres://p", "redis://r", "127.0.0.1:1", "127.0.0.1:2");
        let table: toml::Table = text.parse().unwrap();
        for fault in faults::FAULTS {
            assert_eq!(
                table["models"][fault]["provider"].as_str(),
                Some("faulty"),
                "{fault}"
            );
        }
        assert!(!text.contains("@PG@") && !text.contains("@REDIS@"));
    }

    #[test]
    fn figures_above_their_bound_fail() {
        let within = Finding {
            name: "SIGKILL of one of three instances",
            lost: 1,
            usage_lost: Some(4),
            usage_allowed: 4,
            ..Finding::default()
        };
        assert!(report(std::slice::from_ref(&within)).1.is_empty());
        let over = Finding {
            usage_lost: Some(5),
            ..within
        };
        let failures = report(&[over]).1;
        assert_eq!(failures.len(), 1, "{failures:?}");
        let unknown = Finding {
            name: "made up",
            ..Finding::default()
        };
        assert_eq!(report(&[unknown]).1.len(), 1);
    }
}
