//! The hot-path cost of anomaly detection, for `cargo xtask bench` (it runs this in release
//! and records the table in docs/benchmarks.md): what one request adds — the counter
//! updates of a finished call, and of a failed authentication — mean and p99 over many
//! repetitions, next to an empty loop measured the same way (side by side, same process).
//! The budget is 2 µs per request (issue 31).
//!
//! Run: `cargo run --release -p gateway-policy --example anomaly_cost`

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway_policy::anomaly::{CallObservation, Counters};

/// Mean and 99th percentile per call of `f`, timed in batches so the clock's cost stays out.
fn time(mut f: impl FnMut(u64)) -> (Duration, Duration) {
    const BATCH: u64 = 200;
    const BATCHES: usize = 500;
    for i in 0..2000 {
        f(i);
    }
    let mut i = 0u64;
    let mut per_call: Vec<Duration> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..BATCH {
                f(i);
                i += 1;
            }
            start.elapsed() / BATCH as u32
        })
        .collect();
    per_call.sort();
    let mean = per_call.iter().sum::<Duration>() / BATCHES as u32;
    (mean, per_call[BATCHES * 99 / 100])
}

fn us(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e6)
}

fn main() {
    let keys: Vec<String> = (0..10_000).map(|i| format!("key-{i:05}")).collect();
    let tenants: Vec<String> = (0..100).map(|i| format!("tenant-{i:03}")).collect();
    let ips: Vec<IpAddr> = (0..4096u32)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i * 7)))
        .collect();
    let counters = Arc::new(Counters::new(16_384));
    let call = |i: u64, key: &str| {
        counters.observe_call(black_box(&CallObservation {
            tenant: &tenants[(i % 100) as usize],
            key,
            model: "gpt-4o-mini",
            client: Some(ips[(i % 4096) as usize]),
            tokens: 812,
            cost_usd: 0.000_43,
            error: false,
            refused: false,
            findings: 0,
        }))
    };
    println!("| hot-path operation | mean µs | p99 µs |");
    println!("|---|---|---|");
    let rows: Vec<(&str, (Duration, Duration))> = vec![
        (
            "nothing (the loop and black_box alone)",
            time(|i| {
                black_box(i);
            }),
        ),
        ("finished call, one hot key", time(|i| call(i, &keys[0]))),
        (
            "finished call, 10,000 keys round robin (cache misses)",
            time(|i| call(i, &keys[(i % 10_000) as usize])),
        ),
        (
            "failed authentication (network label + 3 slots)",
            time(|i| {
                counters.observe_auth_failure(Some(ips[(i % 4096) as usize]), Some("tenant-001"), i)
            }),
        ),
    ];
    for (name, (mean, p99)) in rows {
        println!("| {name} | {} | {} |", us(mean), us(p99));
    }
    // Two threads on one key: the contended case (the machine's cores permitting).
    let other = {
        let counters = counters.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut n = 0u64;
            while started.elapsed() < Duration::from_millis(400) {
                counters.observe_call(&CallObservation {
                    tenant: "tenant-000",
                    key: "key-00000",
                    model: "gpt-4o-mini",
                    client: None,
                    tokens: 1,
                    cost_usd: 0.0,
                    error: false,
                    refused: false,
                    findings: 0,
                });
                n += 1;
            }
            n
        })
    };
    let (mean, p99) = time(|i| call(i, &keys[0]));
    let _ = other.join();
    println!(
        "| finished call, one hot key, another thread updating it too | {} | {} |",
        us(mean),
        us(p99)
    );
}
