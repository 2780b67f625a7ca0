//! The measurement plan and its execution against one target: load points with oha,
//! the gateway's CPU time per request and memory, and the streaming checks.

use std::time::Duration;

use serde::Serialize;

use super::oha::{LoadResult, LoadSpec, Oha};
use super::report::opt;
use super::streaming::{self, ConcurrentSummary, TtftSummary};
use super::sysinfo::{self, Memory};
use super::targets::{SLOW_MS, Target};

/// Label of the light-load point used for the added-latency comparison.
pub const LIGHT: &str = "50 req/s";
/// Label of the saturation point used for the added-latency comparison.
pub const SATURATED: &str = "c=64";

/// One load point of the plan.
#[derive(Debug, Clone)]
pub struct Point {
    pub label: &'static str,
    pub slow_upstream: bool,
    pub concurrency: u32,
    pub rate: Option<u32>,
}

/// Saturation at 1, 16 and 64 connections; a light fixed rate; 64 connections against
/// the 20 ms upstream (where a proxy's concurrency, not its speed, matters).
pub fn plan() -> Vec<Point> {
    let point = |label, slow_upstream, concurrency, rate| Point {
        label,
        slow_upstream,
        concurrency,
        rate,
    };
    vec![
        point("c=1", false, 1, None),
        point("c=16", false, 16, None),
        point(SATURATED, false, 64, None),
        point(LIGHT, false, 4, Some(50)),
        point("c=64, upstream +20 ms", true, 64, None),
    ]
}

/// How long and how hard to measure.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub duration_secs: u64,
    pub warmup_secs: u64,
    pub ttft_requests: usize,
    pub ttft_concurrency: usize,
    pub concurrent_streams: usize,
    pub stall_timeout_secs: u64,
    /// Paired rounds for the verdict, and seconds per point in each.
    pub paired_rounds: usize,
    pub paired_secs: u64,
    pub quick: bool,
}

/// The result of one point.
#[derive(Debug, Clone, Serialize)]
pub struct PointResult {
    pub label: String,
    pub upstream_latency_ms: u64,
    pub concurrency: u32,
    pub rate: Option<u32>,
    pub load: Option<LoadResult>,
    pub error: Option<String>,
    /// CPU time (user + system) of the measured process per 2xx response.
    pub cpu_us_per_request: Option<f64>,
}

/// Memory and CPU of the measured process over the whole run.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessStats {
    pub idle: Option<Memory>,
    pub peak_rss_kib: Option<u64>,
    pub cpu_us_per_request: Option<f64>,
    /// Usage records the gateway dropped over the whole run (gateway targets only).
    pub usage_records_dropped: Option<u64>,
}

/// Everything measured for one target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Measurements {
    pub points: Vec<PointResult>,
    pub ttft: Option<TtftSummary>,
    pub concurrent_streams: Option<ConcurrentSummary>,
    pub process: Option<ProcessStats>,
}

/// Runs the whole plan against `target`, printing progress. Never fails as a whole: a
/// point that cannot run records its error.
pub fn run(name: &str, target: &Target, oha: &Oha, settings: &Settings) -> Measurements {
    let ticks_per_sec = sysinfo::clock_ticks_per_sec() as f64;
    let pid = target.measured_pid;
    let idle = pid.and_then(sysinfo::memory);
    let spec = |point: &Point, duration: Duration| {
        let endpoint = if point.slow_upstream {
            &target.slow
        } else {
            &target.fast
        };
        LoadSpec {
            url: endpoint.url(),
            body: endpoint.body(false),
            authorization: Some(endpoint.authorization.clone()),
            concurrency: point.concurrency,
            rate: point.rate,
            duration,
        }
    };
    let warmup = Point {
        label: "warm-up",
        slow_upstream: false,
        concurrency: 16,
        rate: None,
    };
    println!("  {name}: warm-up {}s", settings.warmup_secs);
    if let Err(err) = oha.run(&spec(&warmup, Duration::from_secs(settings.warmup_secs))) {
        println!("  {name}: warm-up failed: {err}");
    }

    let mut measurements = Measurements::default();
    let (mut total_ticks, mut total_ok) = (0u64, 0u64);
    for point in plan() {
        let before = pid.and_then(sysinfo::cpu_ticks);
        let outcome = oha.run(&spec(&point, Duration::from_secs(settings.duration_secs)));
        let after = pid.and_then(sysinfo::cpu_ticks);
        let mut result = PointResult {
            label: point.label.into(),
            upstream_latency_ms: if point.slow_upstream { SLOW_MS } else { 0 },
            concurrency: point.concurrency,
            rate: point.rate,
            load: None,
            error: None,
            cpu_us_per_request: None,
        };
        match outcome {
            Ok(load) => {
                if let (Some(b), Some(a)) = (before, after)
                    && load.ok > 0
                {
                    let ticks = a.since(b).total();
                    total_ticks += ticks;
                    total_ok += load.ok;
                    result.cpu_us_per_request =
                        sysinfo::cpu_us_per_response(ticks, ticks_per_sec, load.ok);
                }
                println!(
                    "  {name}: {:<22} {:>9.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  ({} ok, {} non-2xx, {} errors)",
                    point.label,
                    load.rps,
                    load.p50_ms,
                    load.p99_ms,
                    load.ok,
                    load.non_2xx,
                    load.errors
                );
                result.load = Some(load);
            }
            Err(err) => {
                println!("  {name}: {:<22} failed: {err}", point.label);
                result.error = Some(err.to_string());
            }
        }
        measurements.points.push(result);
    }

    let stall = Duration::from_secs(settings.stall_timeout_secs);
    let request = target.slow.stream_request();
    let ttft = streaming::ttft(
        &request,
        settings.ttft_requests,
        settings.ttft_concurrency,
        Duration::from_secs(settings.duration_secs.max(2)),
        stall,
    );
    println!(
        "  {name}: streaming TTFT p50 {} ms, p99 {} ms over {} streams ({} complete)",
        opt(ttft.p50_ms, 2),
        opt(ttft.p99_ms, 2),
        ttft.requests,
        ttft.completed
    );
    measurements.ttft = Some(ttft);
    let concurrent = streaming::concurrent(&request, settings.concurrent_streams, stall);
    println!(
        "  {name}: {} concurrent streams: {} complete, {} stalled, {} failed{}",
        concurrent.streams,
        concurrent.completed,
        concurrent.stalled,
        concurrent.failed,
        concurrent
            .first_error
            .as_ref()
            .map(|e| format!(" (e.g. {e})"))
            .unwrap_or_default()
    );
    measurements.concurrent_streams = Some(concurrent);

    let usage_records_dropped = target
        .metrics
        .and_then(super::gateway_metrics::usage_records_dropped);
    if let Some(dropped) = usage_records_dropped {
        println!("  {name}: usage records dropped: {dropped}");
    }
    if let Some(pid) = pid {
        measurements.process = Some(ProcessStats {
            idle,
            peak_rss_kib: sysinfo::memory(pid).map(|m| m.peak_kib),
            cpu_us_per_request: sysinfo::cpu_us_per_response(total_ticks, ticks_per_sec, total_ok),
            usage_records_dropped,
        });
    }
    measurements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_covers_the_issue() {
        let plan = plan();
        let saturation: Vec<u32> = plan
            .iter()
            .filter(|p| p.rate.is_none() && !p.slow_upstream)
            .map(|p| p.concurrency)
            .collect();
        assert_eq!(saturation, [1, 16, 64]);
        assert!(plan.iter().any(|p| p.label == LIGHT && p.rate == Some(50)));
        assert!(plan.iter().any(|p| p.label == SATURATED));
        assert!(plan.iter().any(|p| p.slow_upstream));
    }
}
