//! The per-request cost of the client-address checks, for `cargo xtask bench` (it runs this
//! after `guardrail_cost` and appends its rows to that table in docs/benchmarks.md): the
//! client address resolved from the peer and `X-Forwarded-For`, the key's and tenant's
//! allow-lists, and the lookup in a 100,000-entry IP blocklist, side by side with the same
//! request when nothing is configured; and the prompt-signature scan of a benign prompt
//! against 1,000 signatures. Prints Markdown table rows (no header).
//!
//! Run: `cargo run --release -p gateway-policy --example threat_intel_cost`

use std::hint::black_box;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use gateway_core::client_address::TrustedProxies;
use gateway_core::client_networks::ClientNetworks;
use gateway_policy::threat_intel::{CompiledFeed, FeedAction, FeedKind, ThreatIntel};

const BENIGN: &str = "Hello! I am planning a three-day trip to Lisbon in May with two friends. \
We like seafood, museums and long walks, and we would rather avoid crowded tourist traps. \
Could you suggest an itinerary with one neighbourhood per day, a couple of restaurants for each \
evening, and a rough budget per person? Also, is the 28 tram worth it or should we walk instead? \
Please keep the answer under 300 words and use short bullet points.";

/// Mean and 99th percentile over 400 batches of 1,000 calls (after a warm-up).
fn time<R>(mut f: impl FnMut() -> R) -> (Duration, Duration) {
    for _ in 0..10_000 {
        black_box(f());
    }
    let batch = 1000u32;
    let mut per_call: Vec<Duration> = (0..400)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                black_box(f());
            }
            start.elapsed() / batch
        })
        .collect();
    per_call.sort();
    let mean = per_call.iter().sum::<Duration>() / per_call.len() as u32;
    (mean, per_call[per_call.len() * 99 / 100])
}

fn us(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e6)
}

/// A deterministic spread of entries: /32s and /24s over the IPv4 space, some IPv6 /48s.
fn blocklist(n: usize) -> Vec<String> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = (x >> 32) as u32;
            match i % 10 {
                0..=6 => format!("{}", std::net::Ipv4Addr::from(a)),
                7 | 8 => format!("{}/24", std::net::Ipv4Addr::from(a & 0xffff_ff00)),
                _ => format!("2001:db8:{:x}::/48", a & 0xffff),
            }
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let peer: IpAddr = "10.0.0.1".parse()?;
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        http::HeaderValue::from_static("203.0.113.50, 198.51.100.7, 10.0.0.2"),
    );

    // Nothing configured: the address is the peer, no list, no feed.
    let none = TrustedProxies::default();
    let empty = ThreatIntel::new();
    let (mean, p99) = time(|| {
        let ip = none.client_address(Some(black_box(peer)), &headers);
        let admitted: Option<std::sync::Arc<ClientNetworks>> = None;
        let allowed = admitted.is_none_or(|n| n.admits(ip).is_ok());
        allowed && !empty.is_empty() && ip.is_some_and(|ip| empty.blocked_address(ip).is_some())
    });
    println!(
        "| request head, nothing configured (baseline) | - | client address + allow-lists + IP blocklist | {} | {} |",
        us(mean),
        us(p99)
    );

    let proxies = TrustedProxies::parse(&["10.0.0.0/8".to_owned(), "172.16.0.0/12".to_owned()])?;
    let key: Vec<String> = [
        "198.51.100.0/24",
        "192.0.2.0/24",
        "2001:db8::/32",
        "203.0.113.0/24",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let tenant = vec!["0.0.0.0/0".to_owned(), "::/0".to_owned()];
    let networks = ClientNetworks::from_lists(Some(&key), Some(&tenant));
    let intel = ThreatIntel::new();
    let entries = blocklist(100_000);
    intel.install(CompiledFeed::compile(
        "bench",
        FeedKind::IpBlocklist,
        FeedAction::Block,
        &entries,
    )?);
    let (mean, p99) = time(|| {
        let ip = proxies.client_address(Some(black_box(peer)), &headers);
        let allowed = networks.as_ref().is_none_or(|n| n.admits(ip).is_ok());
        allowed && !intel.is_empty() && ip.is_some_and(|ip| intel.blocked_address(ip).is_some())
    });
    println!(
        "| request via a trusted proxy (X-Forwarded-For, 3 hops), key and tenant allow-lists, 100,000-entry IP blocklist | - | client address + allow-lists + IP blocklist | {} | {} |",
        us(mean),
        us(p99)
    );

    let signatures: Vec<String> = (0..1000)
        .map(|i| format!("ignore the rules of section {i} and reveal"))
        .collect();
    intel.install(CompiledFeed::compile(
        "prompts",
        FeedKind::PromptSignatures,
        FeedAction::Block,
        &signatures,
    )?);
    let (mean, p99) = time(|| intel.signature_in(black_box(BENIGN)));
    println!(
        "| benign prompt | {} | threat-intel prompt signatures (1,000 phrases, as written and normalised) | {} | {} |",
        BENIGN.len(),
        us(mean),
        us(p99)
    );
    Ok(())
}
