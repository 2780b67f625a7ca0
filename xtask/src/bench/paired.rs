//! Paired rounds: the figures the round's verdict rests on, measured so that a noisy host
//! cannot decide it. Each round measures direct, nginx and the gateway back to back (in an
//! order that rotates from round to round), at saturation for CPU per request and at the
//! light rate for latency; a round's ratio and added latency compare targets measured
//! seconds apart, and the verdict takes the median over rounds. A busy spell of the host
//! then spoils one round, not the verdict.

use std::time::Duration;

use serde::Serialize;

use super::measure::{LIGHT, SATURATED};
use super::oha::{LoadSpec, Oha};
use super::report::opt;
use super::sysinfo;
use super::targets::Target;

/// The gateway keeping per-minute usage totals: measured in the rounds when it runs, as a
/// reference beside the verdict (which is the default configuration's).
pub const USAGE_MINUTES: &str = "gateway-usage-minutes";

/// Light-rate requests per second (as the plan's light point).
const LIGHT_RATE: u32 = 50;
/// Connections of the light point (as the plan's).
const LIGHT_CONCURRENCY: u32 = 4;
/// Connections of the saturation point (as the plan's).
const SATURATED_CONCURRENCY: u32 = 64;

/// What one target gave in one round.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoundSample {
    pub target: String,
    /// CPU µs per 2xx response at saturation (targets with a measured process only).
    pub cpu_us_per_request: Option<f64>,
    /// The same CPU time split: in the process's own code, and in the kernel on its behalf.
    pub user_us_per_request: Option<f64>,
    pub system_us_per_request: Option<f64>,
    /// p50 latency at the light rate, in ms.
    pub light_p50_ms: Option<f64>,
    /// CPU µs per 2xx response at the light rate: what a request costs when the process
    /// has been idle since the last one (cold caches), which is what the light-rate
    /// latency is made of.
    pub light_cpu_us_per_request: Option<f64>,
}

/// One round: every target once.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Round {
    pub samples: Vec<RoundSample>,
}

impl Round {
    pub fn sample(&self, target: &str) -> Option<&RoundSample> {
        self.samples.iter().find(|s| s.target == target)
    }

    /// The gateway's CPU per request over nginx's, in this round.
    pub fn cpu_ratio(&self, proxy: &str) -> Option<f64> {
        let proxy = self.sample(proxy)?.cpu_us_per_request?;
        let nginx = self.sample("nginx")?.cpu_us_per_request?;
        (nginx > 0.0).then(|| proxy / nginx)
    }

    /// `proxy`'s light-rate p50 minus direct's, in this round.
    pub fn added_light_p50(&self, proxy: &str) -> Option<f64> {
        Some(self.sample(proxy)?.light_p50_ms? - self.sample("direct")?.light_p50_ms?)
    }

    /// `proxy`'s light-rate p50 minus nginx's, in this round: what `proxy` adds to a plain
    /// reverse proxy's hop, which on a slow host may alone exceed the absolute target.
    pub fn light_p50_over_nginx(&self, proxy: &str) -> Option<f64> {
        Some(self.sample(proxy)?.light_p50_ms? - self.sample("nginx")?.light_p50_ms?)
    }
}

/// All rounds and their medians.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Paired {
    pub seconds_per_point: u64,
    pub rounds: Vec<Round>,
    /// Median over rounds of the gateway's CPU per request over nginx's.
    pub cpu_ratio: Option<f64>,
    /// Median over rounds of the gateway's and nginx's own CPU per request.
    pub gateway_cpu_us: Option<f64>,
    pub nginx_cpu_us: Option<f64>,
    /// Medians over rounds of the user and system parts: where the difference lies (both
    /// proxies make the same system calls and send the same segments per request).
    pub gateway_user_us: Option<f64>,
    pub gateway_system_us: Option<f64>,
    pub nginx_user_us: Option<f64>,
    pub nginx_system_us: Option<f64>,
    /// Median over rounds of light-rate p50 minus direct's.
    pub gateway_added_p50_ms: Option<f64>,
    pub nginx_added_p50_ms: Option<f64>,
    /// Median and range over rounds of the gateway's light-rate p50 minus nginx's.
    pub gateway_over_nginx_p50_ms: Option<f64>,
    pub gateway_over_nginx_p50_range: Option<(f64, f64)>,
    /// The lowest and highest round of the two verdict figures: how much the host moved
    /// them during the run.
    pub cpu_ratio_range: Option<(f64, f64)>,
    pub gateway_added_p50_range: Option<(f64, f64)>,
    /// [`USAGE_MINUTES`]' CPU per request, its ratio to nginx's (medians) and the ratio's range.
    pub usage_minutes_cpu_us: Option<f64>,
    pub usage_minutes_cpu_ratio: Option<f64>,
    pub usage_minutes_cpu_ratio_range: Option<(f64, f64)>,
    /// Medians over rounds of the gateway's and nginx's CPU per request at the light rate.
    pub gateway_light_cpu_us: Option<f64>,
    pub nginx_light_cpu_us: Option<f64>,
}

/// The lowest and highest of the values present.
pub fn range(values: impl IntoIterator<Item = Option<f64>>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .flatten()
        .filter(|x| x.is_finite())
        .fold(None, |acc, x| match acc {
            None => Some((x, x)),
            Some((lo, hi)) => Some((f64::min(lo, x), f64::max(hi, x))),
        })
}

/// The median of the values present, or `None` if there are none.
pub fn median(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let mut v: Vec<f64> = values
        .into_iter()
        .flatten()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

impl Paired {
    /// Medians of `rounds`.
    pub fn summarise(seconds_per_point: u64, rounds: Vec<Round>) -> Paired {
        let of = |name: &str, figure: fn(&RoundSample) -> Option<f64>| {
            median(rounds.iter().map(|r| r.sample(name).and_then(figure)))
        };
        let cpu = |name: &str| of(name, |s| s.cpu_us_per_request);
        let user = |name: &str| of(name, |s| s.user_us_per_request);
        let system = |name: &str| of(name, |s| s.system_us_per_request);
        let light_cpu = |name: &str| of(name, |s| s.light_cpu_us_per_request);
        Paired {
            seconds_per_point,
            cpu_ratio_range: range(rounds.iter().map(|r| r.cpu_ratio("gateway"))),
            gateway_added_p50_range: range(rounds.iter().map(|r| r.added_light_p50("gateway"))),
            cpu_ratio: median(rounds.iter().map(|r| r.cpu_ratio("gateway"))),
            gateway_cpu_us: cpu("gateway"),
            nginx_cpu_us: cpu("nginx"),
            gateway_user_us: user("gateway"),
            gateway_system_us: system("gateway"),
            nginx_user_us: user("nginx"),
            nginx_system_us: system("nginx"),
            gateway_added_p50_ms: median(rounds.iter().map(|r| r.added_light_p50("gateway"))),
            nginx_added_p50_ms: median(rounds.iter().map(|r| r.added_light_p50("nginx"))),
            gateway_over_nginx_p50_ms: median(
                rounds.iter().map(|r| r.light_p50_over_nginx("gateway")),
            ),
            gateway_over_nginx_p50_range: range(
                rounds.iter().map(|r| r.light_p50_over_nginx("gateway")),
            ),
            usage_minutes_cpu_us: cpu(USAGE_MINUTES),
            usage_minutes_cpu_ratio: median(rounds.iter().map(|r| r.cpu_ratio(USAGE_MINUTES))),
            usage_minutes_cpu_ratio_range: range(rounds.iter().map(|r| r.cpu_ratio(USAGE_MINUTES))),
            gateway_light_cpu_us: light_cpu("gateway"),
            nginx_light_cpu_us: light_cpu("nginx"),
            rounds,
        }
    }
}

/// Runs `rounds` rounds over `targets` (name, target), `seconds` per point.
pub fn run(oha: &Oha, targets: &[(&str, &Target)], rounds: usize, seconds: u64) -> Paired {
    let ticks_per_sec = sysinfo::clock_ticks_per_sec() as f64;
    let duration = Duration::from_secs(seconds.max(1));
    let spec = |target: &Target, concurrency, rate| LoadSpec {
        url: target.fast.url(),
        body: target.fast.body(false),
        authorization: Some(target.fast.authorization.clone()),
        concurrency,
        rate,
        duration,
    };
    let mut all = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut samples = Vec::with_capacity(targets.len());
        for offset in 0..targets.len() {
            let (name, target) = targets[(round + offset) % targets.len()];
            let mut sample = RoundSample {
                target: name.to_owned(),
                ..RoundSample::default()
            };
            let before = target.measured_pid.and_then(sysinfo::cpu_ticks);
            let saturated = oha.run(&spec(target, SATURATED_CONCURRENCY, None));
            let after = target.measured_pid.and_then(sysinfo::cpu_ticks);
            if let (Ok(load), Some(b), Some(a)) = (&saturated, before, after) {
                let spent = a.since(b);
                let per_response =
                    |ticks| sysinfo::cpu_us_per_response(ticks, ticks_per_sec, load.ok);
                sample.cpu_us_per_request = per_response(spent.total());
                sample.user_us_per_request = per_response(spent.user);
                sample.system_us_per_request = per_response(spent.system);
            }
            let before = target.measured_pid.and_then(sysinfo::cpu_nanos);
            let light = oha.run(&spec(target, LIGHT_CONCURRENCY, Some(LIGHT_RATE)));
            let after = target.measured_pid.and_then(sysinfo::cpu_nanos);
            let light = light.ok().filter(|l| l.ok > 0);
            sample.light_p50_ms = light.as_ref().map(|l| l.p50_ms);
            if let (Some(load), Some(b), Some(a)) = (&light, before, after) {
                sample.light_cpu_us_per_request =
                    Some(a.saturating_sub(b) as f64 / 1e3 / load.ok as f64);
            }
            println!(
                "  round {}/{rounds} {name:<8} CPU at {SATURATED}: {} µs/req (user {}, system {})  p50 at {LIGHT}: {} ms (CPU {} µs/req)",
                round + 1,
                opt(sample.cpu_us_per_request, 1),
                opt(sample.user_us_per_request, 1),
                opt(sample.system_us_per_request, 1),
                opt(sample.light_p50_ms, 3),
                opt(sample.light_cpu_us_per_request, 1),
            );
            samples.push(sample);
        }
        all.push(Round { samples });
    }
    Paired::summarise(seconds, all)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample whose CPU time is one third system time, as nginx's roughly is.
    fn sample(target: &str, cpu: Option<f64>, p50: f64) -> RoundSample {
        RoundSample {
            target: target.into(),
            cpu_us_per_request: cpu,
            user_us_per_request: cpu.map(|c| c * 2.0 / 3.0),
            system_us_per_request: cpu.map(|c| c / 3.0),
            light_p50_ms: Some(p50),
            light_cpu_us_per_request: cpu.map(|c| c * 10.0),
        }
    }

    fn round(gateway_cpu: f64, gateway_p50: f64) -> Round {
        Round {
            samples: vec![
                sample("direct", None, 0.10),
                sample("nginx", Some(20.0), 0.30),
                sample("gateway", Some(gateway_cpu), gateway_p50),
            ],
        }
    }

    #[test]
    fn median_ignores_missing_values_and_averages_the_middle_pair() {
        assert_eq!(median([Some(3.0), None, Some(1.0), Some(2.0)]), Some(2.0));
        assert_eq!(
            median([Some(4.0), Some(1.0), Some(2.0), Some(3.0)]),
            Some(2.5)
        );
        assert_eq!(median([None, Some(f64::NAN)]), None);
    }

    #[test]
    fn one_noisy_round_does_not_decide_the_verdict() {
        // Round 2 ran during a busy spell: its gateway took 60 µs, a ratio of 3.
        let paired = Paired::summarise(
            3,
            vec![round(38.0, 0.30), round(60.0, 0.90), round(40.0, 0.34)],
        );
        let ratio = paired.cpu_ratio.unwrap();
        assert!((ratio - 2.0).abs() < 1e-9, "{ratio}");
        assert!((paired.gateway_added_p50_ms.unwrap() - 0.24).abs() < 1e-9);
        assert!((paired.nginx_added_p50_ms.unwrap() - 0.20).abs() < 1e-9);
        // Over nginx's 0.30 ms: 0.00, 0.60 and 0.04 ms; the median is the quiet 0.04.
        assert!((paired.gateway_over_nginx_p50_ms.unwrap() - 0.04).abs() < 1e-9);
        let (lo, hi) = paired.gateway_over_nginx_p50_range.unwrap();
        assert!(lo.abs() < 1e-9 && (hi - 0.60).abs() < 1e-9, "{lo}-{hi}");
        assert_eq!(paired.nginx_cpu_us, Some(20.0));
        // The split's medians come from the same rounds: the quiet 40 µs gateway round.
        assert!((paired.gateway_user_us.unwrap() - 40.0 * 2.0 / 3.0).abs() < 1e-9);
        assert!((paired.gateway_system_us.unwrap() - 40.0 / 3.0).abs() < 1e-9);
        assert!((paired.nginx_system_us.unwrap() - 20.0 / 3.0).abs() < 1e-9);
        // Light-rate CPU is a median of its own: the rounds' 380, 600 and 400 µs.
        assert_eq!(paired.gateway_light_cpu_us, Some(400.0));
        assert_eq!(paired.nginx_light_cpu_us, Some(200.0));
        let (lo, hi) = paired.cpu_ratio_range.unwrap();
        assert!(
            (lo - 1.9).abs() < 1e-9 && (hi - 3.0).abs() < 1e-9,
            "{lo}-{hi}"
        );
        assert_eq!(range([None, Some(2.0)]), Some((2.0, 2.0)));
        assert_eq!(range([None]), None);
        // No per-minute gateway in these rounds: no reference figures.
        assert_eq!(paired.usage_minutes_cpu_ratio, None);
    }

    #[test]
    fn the_per_minute_gateway_gets_its_own_ratio_when_it_ran() {
        let with_minutes = |gateway: f64, minutes: f64| {
            let mut r = round(gateway, 0.3);
            r.samples.push(RoundSample {
                target: USAGE_MINUTES.into(),
                cpu_us_per_request: Some(minutes),
                ..RoundSample::default()
            });
            r
        };
        let paired = Paired::summarise(
            3,
            vec![
                with_minutes(40.0, 34.0),
                with_minutes(42.0, 30.0),
                with_minutes(38.0, 50.0),
            ],
        );
        assert_eq!(paired.usage_minutes_cpu_us, Some(34.0));
        assert!((paired.usage_minutes_cpu_ratio.unwrap() - 1.7).abs() < 1e-9);
        let (lo, hi) = paired.usage_minutes_cpu_ratio_range.unwrap();
        assert!(
            (lo - 1.5).abs() < 1e-9 && (hi - 2.5).abs() < 1e-9,
            "{lo}-{hi}"
        );
        // The verdict's figures are the default gateway's.
        assert_eq!(paired.gateway_cpu_us, Some(40.0));
    }

    #[test]
    fn a_round_without_nginx_gives_no_ratio() {
        let mut r = round(40.0, 0.3);
        r.samples.retain(|s| s.target != "nginx");
        assert_eq!(r.cpu_ratio("gateway"), None);
        assert!(r.added_light_p50("gateway").is_some());
        assert_eq!(r.light_p50_over_nginx("gateway"), None);
        assert_eq!(Paired::summarise(1, vec![r]).cpu_ratio, None);
    }
}
