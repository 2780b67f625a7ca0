//! Anomaly detection evaluated on simulated traffic (the simulator of
//! `tests/anomaly_sim/`): detection time of each attack scenario and false alarms over a
//! normal week, over several seeds. Prints the Markdown tables of docs/security.md.
//!
//! Run: `cargo run --release -p gateway-policy --example anomaly_eval`

#[path = "../tests/anomaly_sim/scenarios.rs"]
mod scenarios;
#[path = "../tests/anomaly_sim/sim.rs"]
mod sim;

use scenarios::Detection;

fn minutes(m: Option<u64>) -> String {
    m.map_or("not detected".into(), |m| format!("{m} min"))
}

/// Guardrail probing, the attack (not its control run).
fn guardrail_probing(seed: u64, minutes: u64) -> Detection {
    scenarios::guardrail_probing(seed, minutes, true)
}

fn main() {
    let seeds = [1u64, 2, 3, 4, 5];
    type Scenario = fn(u64, u64) -> Detection;
    let scenarios: [(Scenario, u64); 6] = [
        (scenarios::leaked_key, 120),
        (scenarios::cost_spike, 120),
        (scenarios::slow_exfiltration, 48 * 60),
        (scenarios::credential_stuffing, 120),
        (scenarios::credential_stuffing_one_network, 60),
        (guardrail_probing, 120),
    ];
    println!(
        "| scenario | seed | first anomaly | action | top signal | first alert | highest action |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (run, limit) in scenarios {
        for seed in seeds {
            let d = run(seed, limit);
            println!(
                "| {} | {seed} | {} | {} | {} | {} | {} |",
                d.scenario,
                minutes(d.first),
                d.first_action.map_or("-", |a| a.as_str()),
                d.signal.unwrap_or("-"),
                minutes(d.alert),
                d.highest.map_or("-", |a| a.as_str()),
            );
        }
    }
    println!();
    println!(
        "| normal week | seed | keys | key alarms | per key-week | worst key | other alarms |"
    );
    println!("|---|---|---|---|---|---|---|");
    for seed in seeds {
        let w = scenarios::normal_week(seed, 50);
        println!(
            "| normal | {seed} | {} | {} | {:.3} | {} | {} |",
            w.keys,
            w.key_alarms,
            w.key_alarms as f64 / w.keys as f64,
            w.worst_key_alarms,
            w.other_alarms
        );
    }
}
