//! The fault scenarios of `cargo xtask chaos`, each measured into a [`Finding`]: an idle
//! connection flood, a faulty upstream, Redis and PostgreSQL stopped and restarted under
//! load, and one of three instances killed with SIGKILL.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::backends::{PrivatePostgres, PrivateRedis};
use super::faults::{FAULTS, IdleFlood};
use super::load::{Load, Record, answered_before, lost, recovery_after};
use crate::Result;
use crate::bench::procs::Service;
use crate::soak::client::{Call, send};
use crate::soak::stack::{CALLER_KEY, GatewaySpec, kill_hard};

/// What one scenario measured.
#[derive(Debug, Default, Clone)]
pub struct Finding {
    pub name: &'static str,
    pub calls: usize,
    /// Calls of valid requests that got no successful answer.
    pub lost: usize,
    /// From the end of the fault until calls succeed again.
    pub recovery: Duration,
    /// Successful calls without a usage record.
    pub usage_lost: Option<u64>,
    /// Usage records this run may lose beyond the fixed bound (the SIGKILL scenario: what
    /// the killed instance answered in its last [`KILL_LOSS_WINDOW`]).
    pub usage_allowed: u64,
    /// Audited admin actions without an audit event.
    pub audit_lost: Option<u64>,
    /// Anything else worth reading (idle connections closed, slowest answer).
    pub note: String,
}

/// The admin token of the chaos gateways.
pub const ADMIN_TOKEN: &str = "chaos-admin-token-0123456789";

/// Everything the scenarios act on.
pub struct World {
    pub redis: PrivateRedis,
    pub postgres: PrivatePostgres,
    pub specs: Vec<GatewaySpec>,
    pub gateways: Vec<Option<Service>>,
    /// How long each steady phase of load lasts.
    pub phase: Duration,
}

/// How long Redis and PostgreSQL stay down: fixed, so that the bounds hold for any budget
/// (an outage longer than `auth.key_cache_ttl_secs` refuses callers whose key is not cached).
pub const OUTAGE: Duration = Duration::from_secs(3);

/// A SIGKILL may lose the usage records of the calls completed this long before it: the
/// usage writer's 200 ms flush interval plus one store write.
pub const KILL_LOSS_WINDOW: Duration = Duration::from_millis(500);

impl World {
    fn addrs(&self) -> Vec<SocketAddr> {
        self.specs.iter().map(|s| s.listen).collect()
    }

    fn load(&self, prefix: &str) -> Load {
        Load::start(self.addrs(), 3, Duration::from_millis(20), prefix)
    }

    /// Usage records lost: successful calls of `records` without a record of status 200.
    fn usage_lost(&self, prefix: &str, records: &[Record]) -> Result<u64> {
        let answered = records.iter().filter(|r| r.status == Some(200)).count() as u64;
        let sql = format!(
            "SELECT count(*) FROM usage_records WHERE request_id LIKE '{prefix}-%' AND status = 200"
        );
        let stored = self.postgres.settled_count(
            &sql,
            Duration::from_millis(1500),
            Duration::from_secs(20),
        )?;
        Ok(answered.saturating_sub(stored))
    }
}

fn health_ok(addr: SocketAddr) -> bool {
    send(addr, &Call::get("/health"), Duration::from_secs(5)).is_ok_and(|a| a.status == 200)
}

fn plain_call(model: &str, stream: bool) -> Call {
    let body = serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": 8,
        "stream": stream,
    })
    .to_string();
    Call::post_json("/v1/chat/completions", CALLER_KEY, body)
}

/// Idle connections (silent, half an HTTP/2 preface, half a request head) held against one
/// instance while it must go on answering; then how many it closed by itself.
pub fn idle_flood(world: &World, count: usize) -> Finding {
    let addr = world.specs[0].listen;
    let flood = IdleFlood::open(addr, count);
    let mut calls = 0;
    let mut failed = 0;
    for _ in 0..10 {
        calls += 2;
        if !health_ok(addr) {
            failed += 1;
        }
        let answer = send(addr, &plain_call("chaos", false), Duration::from_secs(10));
        if !answer.is_ok_and(|a| a.status == 200) {
            failed += 1;
        }
    }
    // The chaos gateways close a connection that sends no request head within
    // `header_timeout_secs` (2 s): give them that and as long again.
    let waited = Instant::now();
    let wait = (world.phase * 2).max(Duration::from_secs(4));
    while flood.closed_by_server() < flood.opened() && waited.elapsed() < wait {
        std::thread::sleep(Duration::from_millis(250));
    }
    // An idle connection the gateway kept open counts as lost: left alone, such connections
    // exhaust the descriptors and every caller with them.
    let kept_open = flood.opened() - flood.closed_by_server().min(flood.opened());
    Finding {
        name: "idle connection flood",
        calls,
        lost: failed + kept_open,
        note: format!(
            "{} of {} idle connections closed by the gateway within {:.0?}",
            flood.closed_by_server(),
            flood.opened(),
            waited.elapsed()
        ),
        ..Finding::default()
    }
}

/// Every fault of the faulty upstream, streamed and not, all at once: each call must be
/// answered (an error is an answer; a dropped connection or a hang is not).
pub fn upstream_faults(world: &World) -> Finding {
    let addr = world.specs[1].listen;
    let answers: Vec<std::result::Result<Duration, String>> = std::thread::scope(|scope| {
        let calls: Vec<_> = FAULTS
            .iter()
            .flat_map(|fault| [(fault, false), (fault, true)])
            .map(|(fault, stream)| {
                scope.spawn(move || {
                    send(addr, &plain_call(fault, stream), Duration::from_secs(30))
                        .map(|a| a.elapsed)
                })
            })
            .collect();
        calls
            .into_iter()
            .map(|c| c.join().unwrap_or_else(|_| Err("panicked".to_owned())))
            .collect()
    });
    let mut calls = answers.len();
    let unanswered = answers.iter().filter(|a| a.is_err()).count();
    let slowest = answers
        .iter()
        .filter_map(|a| a.as_ref().ok())
        .max()
        .copied()
        .unwrap_or_default();
    let started = Instant::now();
    calls += 1;
    let healthy = send(addr, &plain_call("chaos", false), Duration::from_secs(10))
        .is_ok_and(|a| a.status == 200);
    Finding {
        name: "upstream resets, drips, hangs, garbage, pings",
        calls,
        lost: unanswered + usize::from(!healthy),
        recovery: if healthy {
            Duration::ZERO
        } else {
            started.elapsed()
        },
        note: format!("slowest answer to a fault {slowest:.1?}"),
        ..Finding::default()
    }
}

/// Redis killed under load, started again after [`OUTAGE`]: calls go on (cache misses, limits
/// fail open); recovery is the time until the cache hits again.
pub fn redis_outage(world: &mut World) -> Result<Finding> {
    let load = world.load("redis");
    std::thread::sleep(world.phase);
    world.redis.stop();
    std::thread::sleep(OUTAGE);
    world.redis.resume()?;
    let resumed = load.started.elapsed();
    std::thread::sleep(world.phase * 2);
    let records = load.finish();
    let first_hit = records
        .iter()
        .find(|r| r.at >= resumed && r.cache_hit)
        .map(|r| r.at - resumed);
    Ok(Finding {
        name: "Redis killed and restarted under load",
        calls: records.len(),
        lost: lost(&records),
        recovery: first_hit.unwrap_or(world.phase * 2),
        usage_lost: Some(world.usage_lost("redis", &records)?),
        note: match first_hit {
            Some(_) => "recovery: until the cache hits again".to_owned(),
            None => "the cache never hit again after the restart".to_owned(),
        },
        ..Finding::default()
    })
}

/// PostgreSQL stopped (immediate mode: connections cut) under load, started again after
/// [`OUTAGE`].
pub fn postgres_outage(world: &World) -> Result<Finding> {
    let load = world.load("pg");
    std::thread::sleep(world.phase);
    world.postgres.stop()?;
    std::thread::sleep(OUTAGE);
    world.postgres.resume()?;
    let resumed = load.started.elapsed();
    std::thread::sleep(world.phase * 2);
    let records = load.finish();
    Ok(Finding {
        name: "PostgreSQL stopped and restarted under load",
        calls: records.len(),
        lost: lost(&records),
        recovery: recovery_after(&records, resumed),
        usage_lost: Some(world.usage_lost("pg", &records)?),
        note: String::new(),
        ..Finding::default()
    })
}

/// Admin actions that are audited: tenants created through instance `addr`; returns how
/// many were created.
fn audited_actions(addr: SocketAddr, count: usize) -> u64 {
    let mut created = 0;
    for i in 0..count {
        let call = Call {
            method: "POST",
            path: "/admin/v1/tenants".to_owned(),
            headers: vec![
                format!("authorization: Bearer {ADMIN_TOKEN}"),
                "content-type: application/json".to_owned(),
            ],
            body: format!(r#"{{"id":"chaos-kill-{i}","name":"chaos"}}"#),
        };
        if send(addr, &call, Duration::from_secs(10)).is_ok_and(|a| a.status == 201) {
            created += 1;
        }
    }
    created
}

/// One of three instances killed with SIGKILL under load, right after audited admin
/// actions on it, then started again on its port.
pub fn sigkill_one(world: &mut World) -> Result<Finding> {
    let victim = 2;
    let load = world.load("kill");
    std::thread::sleep(world.phase);
    let created = audited_actions(world.specs[victim].listen, 5);
    let killed_at = load.started.elapsed();
    if let Some(gateway) = world.gateways[victim].take() {
        kill_hard(gateway.pid())?;
        drop(gateway);
    }
    std::thread::sleep(world.phase);
    let restarted = Instant::now();
    world.gateways[victim] = Some(world.specs[victim].start()?);
    let addr = world.specs[victim].listen;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline
        && !send(addr, &plain_call("chaos", false), Duration::from_secs(5))
            .is_ok_and(|a| a.status == 200)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let recovery = restarted.elapsed();
    std::thread::sleep(world.phase);
    let records = load.finish();
    let audited = world.postgres.settled_count(
        "SELECT count(*) FROM audit_events WHERE details LIKE '%chaos-kill-%' \
         OR target LIKE 'chaos-kill-%' OR tenant LIKE 'chaos-kill-%'",
        Duration::from_millis(1500),
        Duration::from_secs(20),
    )?;
    Ok(Finding {
        name: "SIGKILL of one of three instances",
        calls: records.len(),
        lost: lost(&records),
        recovery,
        usage_lost: Some(world.usage_lost("kill", &records)?),
        usage_allowed: answered_before(&records, victim, killed_at, KILL_LOSS_WINDOW),
        audit_lost: Some(created.saturating_sub(audited)),
        note: format!(
            "recovery: restart until the instance answers; {created} audited admin actions just before the kill"
        ),
    })
}
