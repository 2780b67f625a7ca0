//! The attack scenarios and the normal week, each a function of a seed returning what the
//! detector did. Attacks start on the second Monday at 10:00 UTC, after a week of history,
//! against `key-000` (or the gateway's login endpoint), while normal traffic goes on.

#![allow(dead_code)]

use gateway_policy::anomaly::{AnomalyAction, EntityKind};

use super::sim::{DAY_MINUTES, HISTORY, Sim, TENANT, attacker_address, eval_config};

/// Keys in the attack simulations.
pub const ATTACK_KEYS: usize = 10;
/// When attacks start (minutes since the simulation's start).
pub const ATTACK_START: u64 = HISTORY + 10 * 60;
pub const VICTIM: &str = "key-000";

/// What the detector did about one attack.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub scenario: &'static str,
    /// Minutes from the attack's start to the first anomaly about its target.
    pub first: Option<u64>,
    /// The action of that first anomaly.
    pub first_action: Option<AnomalyAction>,
    /// Minutes to the first anomaly at `alert` or above.
    pub alert: Option<u64>,
    /// The highest action raised within the attack's run.
    pub highest: Option<AnomalyAction>,
    /// The signal that scored highest in the first anomaly.
    pub signal: Option<&'static str>,
}

fn detection(sim: &Sim, scenario: &'static str, kind: EntityKind, id: &str) -> Detection {
    let raised = sim.raised_for(kind, id, ATTACK_START);
    let first = raised.first();
    Detection {
        scenario,
        first: first.map(|(m, _)| m - ATTACK_START),
        first_action: first.map(|(_, a)| a.action),
        alert: raised
            .iter()
            .find(|(_, a)| a.action >= AnomalyAction::Alert)
            .map(|(m, _)| m - ATTACK_START),
        highest: raised.iter().map(|(_, a)| a.action).max(),
        signal: first.and_then(|(_, a)| a.signals.first().map(|s| s.signal.as_str())),
    }
}

fn warmed(seed: u64) -> Sim {
    let mut sim = Sim::new(seed, ATTACK_KEYS, eval_config());
    sim.run_normal(ATTACK_START);
    sim
}

/// A leaked key used from many new addresses: 3 extra calls a minute, each from a random
/// address in networks the key never used, for up to `minutes`.
pub fn leaked_key(seed: u64, minutes: u64) -> Detection {
    let mut sim = warmed(seed);
    for _ in 0..minutes {
        sim.normal_minute();
        let n = sim.rng.poisson(3.0);
        for _ in 0..n {
            let mut call = sim.normal_call(0);
            call.client = attacker_address(&mut sim.rng);
            sim.call(&call);
        }
        sim.fold();
    }
    detection(
        &sim,
        "leaked key, many new addresses",
        EntityKind::Key,
        VICTIM,
    )
}

/// A sudden cost spike: from the attack on, the key's calls ask ten times the tokens of a
/// model five times the price (fifty times the cost per call) at its usual rate.
pub fn cost_spike(seed: u64, minutes: u64) -> Detection {
    let mut sim = warmed(seed);
    for _ in 0..minutes {
        sim.normal_minute_with(|k, call| {
            if k == 0 {
                call.tokens *= 10;
                call.cost_usd *= 50.0;
            }
        });
        sim.fold();
    }
    detection(&sim, "sudden cost spike", EntityKind::Key, VICTIM)
}

/// Slow, low-rate exfiltration: round the clock, 0.25 extra calls a minute with long
/// answers (about 4,000 tokens), from the key's own address and model.
pub fn slow_exfiltration(seed: u64, minutes: u64) -> Detection {
    let mut sim = warmed(seed);
    for _ in 0..minutes {
        sim.normal_minute();
        let n = sim.rng.poisson(0.25);
        for _ in 0..n {
            let mut call = sim.normal_call(0);
            call.tokens = (4000.0 * sim.rng.lognormal(0.2)) as u64;
            call.cost_usd = call.tokens as f64 * sim.keys[0].price;
            sim.call(&call);
        }
        sim.fold();
    }
    detection(&sim, "slow low-rate exfiltration", EntityKind::Key, VICTIM)
}

/// Probing the guardrails with a working key: from the attack on, the key's calls come at
/// its usual rate, from its usual addresses and models, but each carries one to three
/// guardrail findings (flagged injection attempts, redacted secrets) where the key's habit is
/// one finding in fifty calls. Nothing is refused: only the findings depart from the habit.
/// `probing: false` runs the same traffic without the findings (the control).
pub fn guardrail_probing(seed: u64, minutes: u64, probing: bool) -> Detection {
    let mut sim = warmed(seed);
    let mut probes = 0u32;
    for _ in 0..minutes {
        sim.normal_minute_with(|k, call| {
            if k == 0 && probing {
                probes += 1;
                call.findings = 1 + probes % 3;
                call.refused = false;
            }
        });
        sim.fold();
    }
    detection(&sim, "guardrail probing", EntityKind::Key, VICTIM)
}

/// Credential stuffing against many keys from a botnet: 10 attempts a minute, each with a
/// different guessed key from one of 300 addresses in 300 networks (a handful of attempts
/// per network per hour), none naming a tenant.
pub fn credential_stuffing(seed: u64, minutes: u64) -> Detection {
    let mut sim = warmed(seed);
    let bots: Vec<_> = (0..300).map(|_| attacker_address(&mut sim.rng)).collect();
    for _ in 0..minutes {
        sim.normal_minute();
        let n = sim.rng.poisson(10.0);
        for _ in 0..n {
            let bot = bots[sim.rng.below(bots.len() as u64) as usize];
            let guess = sim.rng.next_u64();
            sim.counters.observe_auth_failure(Some(bot), None, guess);
        }
        sim.fold();
    }
    detection(
        &sim,
        "credential stuffing, many keys (botnet)",
        EntityKind::Gateway,
        "*",
    )
}

/// Credential stuffing from one network against one tenant's key prefix: 30 attempts a
/// minute, each a different guess.
pub fn credential_stuffing_one_network(seed: u64, minutes: u64) -> Detection {
    let mut sim = warmed(seed);
    let net = "198.19.7.0/24";
    for _ in 0..minutes {
        sim.normal_minute();
        for i in 0..30u8 {
            let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 19, 7, 1 + i));
            let guess = sim.rng.next_u64();
            sim.counters
                .observe_auth_failure(Some(ip), Some(TENANT), guess);
        }
        sim.fold();
    }
    detection(
        &sim,
        "credential stuffing, one network",
        EntityKind::Network,
        net,
    )
}

/// The normal week: `keys` keys, a week of history, then a week watched. Returns the
/// anomalies raised about keys in the watched week, and about anything else.
pub struct NormalWeek {
    pub keys: usize,
    pub key_alarms: usize,
    pub worst_key_alarms: usize,
    pub other_alarms: usize,
}

pub fn normal_week(seed: u64, keys: usize) -> NormalWeek {
    let mut sim = Sim::new(seed, keys, eval_config());
    sim.run_normal(HISTORY + 7 * DAY_MINUTES);
    let watched: Vec<_> = sim
        .anomalies
        .iter()
        .filter(|(m, _)| *m >= HISTORY)
        .collect();
    let mut per_key = std::collections::BTreeMap::<&str, usize>::new();
    for (_, a) in &watched {
        if a.kind == EntityKind::Key {
            *per_key.entry(a.id.as_str()).or_default() += 1;
        }
    }
    NormalWeek {
        keys,
        key_alarms: per_key.values().sum(),
        worst_key_alarms: per_key.values().copied().max().unwrap_or(0),
        other_alarms: watched
            .iter()
            .filter(|(_, a)| a.kind != EntityKind::Key)
            .count(),
    }
}
