//! The benchmark report: derived comparisons (added latency), the terminal tables,
//! docs/benchmarks.md and the `--json` output.

use serde::Serialize;

use super::measure::{LIGHT, Measurements, SATURATED, Settings};
use super::paired::Paired;
use super::sysinfo::Machine;

/// One target's outcome: measured, not installed, or failed to start.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub name: String,
    /// `ok`, `not installed` or `error: ...`.
    pub status: String,
    pub measurements: Option<Measurements>,
}

/// A proxy's latency minus direct's, for one point, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct AddedLatency {
    pub target: String,
    pub point: String,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub settings: Settings,
    pub targets: Vec<TargetReport>,
    pub added_latency: Vec<AddedLatency>,
    /// The paired rounds the verdict comes from, when direct, nginx and the gateway all ran.
    pub paired: Option<Paired>,
    pub wall_time_secs: f64,
}

/// A table rendered both for the terminal and as Markdown.
pub struct Table {
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn to_terminal(&self) -> String {
        let mut table = comfy_table::Table::new();
        table.set_header(self.headers.clone());
        for row in &self.rows {
            table.add_row(row.clone());
        }
        format!("{}\n{table}", self.title)
    }

    pub fn to_markdown(&self) -> String {
        let mut out = format!("## {}\n\n| {} |\n|", self.title, self.headers.join(" | "));
        out.push_str(&"---|".repeat(self.headers.len()));
        out.push('\n');
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        out
    }
}

/// Gateway and nginx minus direct at the light rate, at saturation and with the slow upstream.
pub fn added_latency(targets: &[TargetReport]) -> Vec<AddedLatency> {
    let find = |name: &str| {
        targets
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.measurements.as_ref())
    };
    let Some(direct) = find("direct") else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for name in [
        "nginx",
        "gateway",
        "gateway-cache-hit",
        "gateway-usage-minutes",
    ] {
        let Some(proxy) = find(name) else { continue };
        for label in ["c=1", LIGHT, SATURATED, "c=64, upstream +20 ms"] {
            let load = |m: &Measurements| {
                m.points
                    .iter()
                    .find(|p| p.label == label)
                    .and_then(|p| p.load.clone())
            };
            if let (Some(base), Some(other)) = (load(direct), load(proxy)) {
                rows.push(AddedLatency {
                    target: name.into(),
                    point: label.into(),
                    p50_ms: other.p50_ms - base.p50_ms,
                    p99_ms: other.p99_ms - base.p99_ms,
                });
            }
        }
        if let (Some(base), Some(other)) = (&direct.ttft, &proxy.ttft)
            && let (Some(b50), Some(o50), Some(b99), Some(o99)) =
                (base.p50_ms, other.p50_ms, base.p99_ms, other.p99_ms)
        {
            rows.push(AddedLatency {
                target: name.into(),
                point: "streaming TTFT".into(),
                p50_ms: o50 - b50,
                p99_ms: o99 - b99,
            });
        }
    }
    rows
}

fn ms(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.3}")
    } else {
        "-".into()
    }
}

/// `value` with `digits` decimals, or `-` when there is none (printed rounds and tables).
pub(super) fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}

/// All tables of the report, in print order.
pub fn tables(report: &Report) -> Vec<Table> {
    let mut load = Table {
        title: "Throughput and latency (non-streaming chat completions)",
        headers: vec![
            "target",
            "point",
            "req/s",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "ok",
            "non-2xx",
            "errors",
            "CPU µs/req",
        ],
        rows: Vec::new(),
    };
    let mut streams = Table {
        title: "Streaming (upstream +20 ms)",
        headers: vec![
            "target",
            "TTFT p50 ms",
            "TTFT p99 ms",
            "streams",
            "concurrent",
            "completed",
            "stalled",
            "failed",
            "slowest ms",
            "all complete",
        ],
        rows: Vec::new(),
    };
    let mut process = Table {
        title: "Proxy process (nginx: master and worker together)",
        headers: vec![
            "target",
            "idle RSS MiB",
            "peak RSS MiB",
            "CPU µs per request (all points)",
            "usage records dropped",
        ],
        rows: Vec::new(),
    };
    for target in &report.targets {
        let Some(m) = &target.measurements else {
            let mut row = vec![target.name.clone(), target.status.clone()];
            row.resize(load.headers.len(), String::new());
            load.rows.push(row);
            let mut row = vec![target.name.clone(), target.status.clone()];
            row.resize(streams.headers.len(), String::new());
            streams.rows.push(row);
            continue;
        };
        for point in &m.points {
            let mut row = vec![target.name.clone(), point.label.clone()];
            match (&point.load, &point.error) {
                (Some(l), _) => row.extend([
                    format!("{:.0}", l.rps),
                    ms(l.p50_ms),
                    ms(l.p99_ms),
                    ms(l.p999_ms),
                    l.ok.to_string(),
                    l.non_2xx.to_string(),
                    l.errors.to_string(),
                    opt(point.cpu_us_per_request, 1),
                ]),
                (None, error) => row.push(format!("error: {}", error.as_deref().unwrap_or("?"))),
            }
            row.resize(load.headers.len(), String::new());
            load.rows.push(row);
        }
        let mut row = vec![target.name.clone()];
        match &m.ttft {
            Some(t) => row.extend([opt(t.p50_ms, 2), opt(t.p99_ms, 2), t.requests.to_string()]),
            None => row.extend(["-".into(), "-".into(), "-".into()]),
        }
        match &m.concurrent_streams {
            Some(c) => row.extend([
                c.streams.to_string(),
                c.completed.to_string(),
                c.stalled.to_string(),
                c.failed.to_string(),
                opt(c.slowest_ms, 0),
                if c.all_completed() { "yes" } else { "NO" }.into(),
            ]),
            None => row.resize(streams.headers.len(), "-".into()),
        }
        streams.rows.push(row);
        if let Some(p) = &m.process {
            process.rows.push(vec![
                target.name.clone(),
                opt(p.idle.map(|m| m.rss_kib as f64 / 1024.0), 1),
                opt(p.peak_rss_kib.map(|k| k as f64 / 1024.0), 1),
                opt(p.cpu_us_per_request, 1),
                p.usage_records_dropped
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            ]);
        }
    }
    let added = Table {
        title: "Added latency (proxy minus direct, same run)",
        headers: vec!["target", "point", "p50 ms", "p99 ms"],
        rows: report
            .added_latency
            .iter()
            .map(|a| {
                vec![
                    a.target.clone(),
                    a.point.clone(),
                    format!("{:+.3}", a.p50_ms),
                    format!("{:+.3}", a.p99_ms),
                ]
            })
            .collect(),
    };
    [
        load,
        added,
        streams,
        process,
        paired_table(report),
        round_targets(report),
    ]
    .into_iter()
    .filter(|table| !table.rows.is_empty())
    .collect()
}

/// The measures the performance issue sets targets on, for the plain (uncached) gateway:
/// CPU per request at saturation against nginx's, added p50 at the light rate, idle RSS,
/// and the stated goals of added p99 at concurrency 1 and throughput near nginx's.
fn round_targets(report: &Report) -> Table {
    let measurements = |name: &str| {
        report
            .targets
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.measurements.as_ref())
    };
    let point = |m: Option<&Measurements>, label: &str| {
        m?.points.iter().find(|p| p.label == label).cloned()
    };
    let added = |label: &str| {
        report
            .added_latency
            .iter()
            .find(|a| a.target == "gateway" && a.point == label)
    };
    let (gateway, nginx) = (measurements("gateway"), measurements("nginx"));
    let mut rows = Vec::new();
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met".to_owned(),
        Some(false) => "not met".to_owned(),
        None => "-".to_owned(),
    };
    // With paired rounds, their medians; otherwise the single run's figures.
    let paired = report.paired.as_ref();
    let cpu = |m| point(m, SATURATED).and_then(|p| p.cpu_us_per_request);
    let (gateway_cpu, nginx_cpu, cpu_ratio) = match paired {
        Some(p) => (p.gateway_cpu_us, p.nginx_cpu_us, p.cpu_ratio),
        None => {
            let (g, n) = (cpu(gateway), cpu(nginx));
            (g, n, g.zip(n).map(|(g, n)| g / n))
        }
    };
    let source = if paired.is_some() {
        " (median of rounds)"
    } else {
        ""
    };
    rows.push(vec![
        format!("CPU µs per request at {SATURATED}{source}"),
        opt(gateway_cpu, 1),
        opt(nginx_cpu, 1),
        format!(
            "≤ 2× nginx (ratio {}{})",
            opt(cpu_ratio, 2),
            rounds_range(paired.and_then(|p| p.cpu_ratio_range), 2)
        ),
        verdict(cpu_ratio.map(|r| r <= 2.0)),
    ]);
    if let Some(p) = paired {
        let split = |user: Option<f64>, system: Option<f64>| {
            format!("{} / {}", opt(user, 1), opt(system, 1))
        };
        rows.push(vec![
            "of it user / system µs (median of rounds)".into(),
            split(p.gateway_user_us, p.gateway_system_us),
            split(p.nginx_user_us, p.nginx_system_us),
            "reference".into(),
            "-".into(),
        ]);
        if p.usage_minutes_cpu_ratio.is_some() {
            rows.push(vec![
                format!("CPU µs per request at {SATURATED} with per-minute usage (reference)"),
                opt(p.usage_minutes_cpu_us, 1),
                opt(nginx_cpu, 1),
                format!(
                    "ratio {}{}",
                    opt(p.usage_minutes_cpu_ratio, 2),
                    rounds_range(p.usage_minutes_cpu_ratio_range, 2)
                ),
                "-".into(),
            ]);
        }
    }
    let (light, nginx_light) = match paired {
        Some(p) => (p.gateway_added_p50_ms, p.nginx_added_p50_ms),
        None => (
            added(LIGHT).map(|a| a.p50_ms),
            report
                .added_latency
                .iter()
                .find(|a| a.target == "nginx" && a.point == LIGHT)
                .map(|a| a.p50_ms),
        ),
    };
    rows.push(vec![
        format!("added p50 ms at {LIGHT}{source}"),
        opt(light, 3),
        opt(nginx_light, 3),
        format!(
            "≤ 0.25{}",
            rounds_range(paired.and_then(|p| p.gateway_added_p50_range), 3)
        ),
        verdict(light.map(|v| v <= 0.25)),
    ]);
    if let Some(p) = paired {
        rows.push(vec![
            format!("p50 ms at {LIGHT} over nginx's (reference)"),
            opt(p.gateway_over_nginx_p50_ms, 3),
            "0".into(),
            format!("-{}", rounds_range(p.gateway_over_nginx_p50_range, 3)),
            "-".into(),
        ]);
        let light_ratio = p
            .gateway_light_cpu_us
            .zip(p.nginx_light_cpu_us)
            .filter(|&(_, nginx)| nginx > 0.0)
            .map(|(gateway, nginx)| gateway / nginx);
        rows.push(vec![
            format!("CPU µs per request at {LIGHT}, idle between requests (reference)"),
            opt(p.gateway_light_cpu_us, 1),
            opt(p.nginx_light_cpu_us, 1),
            format!("ratio {}", opt(light_ratio, 2)),
            "-".into(),
        ]);
    }
    let idle =
        |m: Option<&Measurements>| m?.process.as_ref()?.idle.map(|m| m.rss_kib as f64 / 1024.0);
    rows.push(vec![
        "idle RSS MiB".into(),
        opt(idle(gateway), 1),
        opt(idle(nginx), 1),
        "< 30".into(),
        verdict(idle(gateway).map(|v| v < 30.0)),
    ]);
    let c1 = added("c=1").map(|a| a.p99_ms);
    rows.push(vec![
        "added p99 ms at c=1 (goal)".into(),
        opt(c1, 3),
        "-".into(),
        "< 0.1".into(),
        verdict(c1.map(|v| v < 0.1)),
    ]);
    let rps = |m| point(m, SATURATED).and_then(|p| p.load).map(|l| l.rps);
    let throughput = rps(gateway).zip(rps(nginx)).map(|(g, n)| g / n);
    rows.push(vec![
        format!("throughput ratio to nginx at {SATURATED}"),
        opt(rps(gateway), 0),
        opt(rps(nginx), 0),
        format!("close to nginx's (ratio {})", opt(throughput, 2)),
        "-".into(),
    ]);
    Table {
        title: "Targets of the performance round (gateway, no cache)",
        headers: vec!["measure", "gateway", "nginx", "target", "verdict"],
        rows: if gateway.is_some() { rows } else { Vec::new() },
    }
}

/// Each paired round's figures and the medians the verdict uses.
fn paired_table(report: &Report) -> Table {
    let mut rows = Vec::new();
    if let Some(paired) = &report.paired {
        let cpu = |round: &super::paired::Round, name| {
            round.sample(name).and_then(|s| s.cpu_us_per_request)
        };
        for (i, round) in paired.rounds.iter().enumerate() {
            rows.push(vec![
                (i + 1).to_string(),
                opt(cpu(round, "gateway"), 1),
                opt(cpu(round, "nginx"), 1),
                opt(round.cpu_ratio("gateway"), 2),
                opt(round.added_light_p50("gateway"), 3),
                opt(round.added_light_p50("nginx"), 3),
                opt(round.light_p50_over_nginx("gateway"), 3),
            ]);
        }
        rows.push(vec![
            "median".into(),
            opt(paired.gateway_cpu_us, 1),
            opt(paired.nginx_cpu_us, 1),
            opt(paired.cpu_ratio, 2),
            opt(paired.gateway_added_p50_ms, 3),
            opt(paired.nginx_added_p50_ms, 3),
            opt(paired.gateway_over_nginx_p50_ms, 3),
        ]);
    }
    Table {
        title: "Paired rounds (direct, nginx and gateway back to back; the verdict uses the medians)",
        headers: vec![
            "round",
            "gateway CPU µs/req",
            "nginx CPU µs/req",
            "ratio",
            "gateway added p50 ms",
            "nginx added p50 ms",
            "gateway over nginx p50 ms",
        ],
        rows,
    }
}

/// `; rounds LO-HI` after a median, so that the reader sees how far the host moved it.
fn rounds_range(range: Option<(f64, f64)>, digits: usize) -> String {
    range.map_or_else(String::new, |(lo, hi)| {
        format!("; rounds {lo:.digits$}-{hi:.digits$}")
    })
}

/// docs/benchmarks.md.
pub fn markdown(report: &Report) -> String {
    let m = &report.machine;
    let s = &report.settings;
    let mut out = format!(
        "# Benchmarks\n\n\
         Generated by `cargo xtask bench`; do not edit by hand (re-run it instead).\n\n\
         | | |\n|---|---|\n| CPU | {} |\n| cores | {} |\n| date | {} |\n| commit | {} |\n\
         | command | `{}` |\n| duration per point | {} s (warm-up {} s) |\n| total wall time | {:.0} s |\n\n\
         Method: `mock-upstream` (no added latency, and a {} ms variant) is called directly, \
         through nginx (one worker, keep-alive upstream, buffering off) and through the release \
         gateway, all on 127.0.0.1, by `oha` (non-streaming) and xtask's own HTTP/1.1 client \
         (streaming: time to first `data:` line, then read to `data: [DONE]`). The load \
         generator, the proxies and the mock share this machine's cores, so compare rows of one \
         run rather than absolute numbers across machines. CPU µs/req is the proxy process's \
         user+system time (/proc/PID/stat, nginx's master and worker summed) divided by its 2xx \
         responses; RSS is VmRSS at idle and VmHWM at the end. The verdict on the round's \
         targets comes from paired rounds: direct, nginx and the gateway measured back to \
         back in each round (order rotating), and the median over rounds of each round's \
         ratio and added latency, so that one busy spell of the host cannot decide it.\n\n",
        m.cpu_model,
        m.cores,
        m.date,
        m.commit,
        m.command,
        s.duration_secs,
        s.warmup_secs,
        report.wall_time_secs,
        super::targets::SLOW_MS,
    );
    for table in tables(report) {
        out.push_str(&table.to_markdown());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::measure::PointResult;
    use super::super::oha::LoadResult;
    use super::*;

    fn measured(p50: f64) -> Option<Measurements> {
        let point = |label: &str| PointResult {
            label: label.into(),
            upstream_latency_ms: 0,
            concurrency: 64,
            rate: None,
            load: Some(LoadResult {
                rps: 1000.0,
                p50_ms: p50,
                p99_ms: p50 * 2.0,
                p999_ms: p50 * 3.0,
                ok: 10,
                ..LoadResult::default()
            }),
            error: None,
            cpu_us_per_request: Some(12.5),
        };
        Some(Measurements {
            points: vec![point(LIGHT), point(SATURATED)],
            ..Measurements::default()
        })
    }

    fn report() -> Report {
        let targets = vec![
            TargetReport {
                name: "direct".into(),
                status: "ok".into(),
                measurements: measured(1.0),
            },
            TargetReport {
                name: "nginx".into(),
                status: "not installed".into(),
                measurements: None,
            },
            TargetReport {
                name: "gateway".into(),
                status: "ok".into(),
                measurements: measured(1.25),
            },
        ];
        Report {
            machine: Machine {
                cpu_model: "Test CPU".into(),
                cores: 2,
                date: "2026-01-01 00:00:00 UTC".into(),
                commit: "abc123".into(),
                command: "cargo xtask bench".into(),
            },
            settings: Settings {
                duration_secs: 10,
                warmup_secs: 2,
                ttft_requests: 300,
                ttft_concurrency: 4,
                concurrent_streams: 512,
                stall_timeout_secs: 10,
                paired_rounds: 0,
                paired_secs: 4,
                quick: false,
            },
            added_latency: added_latency(&targets),
            paired: None,
            targets,
            wall_time_secs: 200.0,
        }
    }

    #[test]
    fn added_latency_is_gateway_minus_direct() {
        let report = report();
        assert_eq!(report.added_latency.len(), 2, "{:?}", report.added_latency);
        let light = &report.added_latency[0];
        assert_eq!(
            (light.target.as_str(), light.point.as_str()),
            ("gateway", LIGHT)
        );
        assert!((light.p50_ms - 0.25).abs() < 1e-9 && (light.p99_ms - 0.5).abs() < 1e-9);
    }

    #[test]
    fn markdown_has_machine_and_every_target() {
        let md = markdown(&report());
        assert!(md.starts_with("# Benchmarks\n"));
        assert!(md.contains("| CPU | Test CPU |") && md.contains("| commit | abc123 |"));
        assert!(
            md.contains("| gateway | c=64 | 1000 | 1.250 | 2.500 | 3.750 | 10 | 0 | 0 | 12.5 |"),
            "{md}"
        );
        assert!(md.contains("| nginx | not installed |"));
        assert!(md.contains("| gateway | 50 req/s | +0.250 | +0.500 |"));
        assert!(
            md.contains("| added p50 ms at 50 req/s | 0.250 | - | ≤ 0.25 | met |"),
            "{md}"
        );
        assert!(
            md.contains("| CPU µs per request at c=64 | 12.5 | - | ≤ 2× nginx (ratio -) | - |")
        );
        assert!(!md.contains("Paired rounds"), "no rounds ran: {md}");
        for table in tables(&report()) {
            let columns = table.headers.len();
            assert!(
                table.rows.iter().all(|row| row.len() == columns),
                "{}",
                table.title
            );
        }
    }

    #[test]
    fn the_verdict_uses_the_paired_medians_when_rounds_ran() {
        use super::super::paired::{Round, RoundSample, USAGE_MINUTES};
        let sample = |target: &str, cpu: Option<f64>, p50: f64| RoundSample {
            target: target.into(),
            cpu_us_per_request: cpu,
            user_us_per_request: cpu.map(|c| c - 4.0),
            system_us_per_request: cpu.map(|_| 4.0),
            light_p50_ms: Some(p50),
            light_cpu_us_per_request: cpu.map(|c| c * 8.0),
        };
        let round = |gateway_cpu: f64| Round {
            samples: vec![
                sample("direct", None, 1.0),
                sample("nginx", Some(10.0), 1.1),
                sample("gateway", Some(gateway_cpu), 1.2),
                sample(USAGE_MINUTES, Some(gateway_cpu - 3.0), 1.2),
            ],
        };
        let mut report = report();
        report.paired = Some(Paired::summarise(
            4,
            vec![round(19.0), round(40.0), round(21.0)],
        ));
        let md = markdown(&report);
        assert!(
            md.contains("| CPU µs per request at c=64 (median of rounds) | 21.0 | 10.0 | ≤ 2× nginx (ratio 2.10; rounds 1.90-4.00) | not met |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| of it user / system µs (median of rounds) | 17.0 / 4.0 | 6.0 / 4.0 | reference | - |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| median | 21.0 | 10.0 | 2.10 | 0.200 | 0.100 | 0.100 |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| CPU µs per request at c=64 with per-minute usage (reference) | 18.0 | 10.0 | ratio 1.80; rounds 1.60-3.70 | - |"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "| added p50 ms at 50 req/s (median of rounds) | 0.200 | 0.100 | ≤ 0.25; rounds 0.200-0.200 | met |"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "| p50 ms at 50 req/s over nginx's (reference) | 0.100 | 0 | -; rounds 0.100-0.100 | - |"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "| CPU µs per request at 50 req/s, idle between requests (reference) | 168.0 | 80.0 | ratio 2.10 | - |"
            ),
            "{md}"
        );
    }
}
