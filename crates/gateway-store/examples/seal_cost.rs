//! The cost of encryption on the response cache's hit path (not yet part of `cargo xtask
//! bench`: run it by hand, in release, and quote the table in docs/security.md).
//! Prints a Markdown table: per cached answer size, the mean and p99 time of what a hit does
//! without encryption (memory: a clone; Redis: a JSON decode) and with it (open with the
//! tenant's data key, then decode), and of sealing one entry on a fill.
//!
//! Run: `cargo run --release -p gateway-store --example seal_cost`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway_core::encryption::ContentCipher;
use gateway_core::{ChatResponse, TenantId};
use gateway_store::{Keyring, LocalKek, SqlStore};

const BATCH: u32 = 50;
const BATCHES: usize = 400;

fn answer(bytes: usize) -> Result<ChatResponse, serde_json::Error> {
    let text = "The capital of France is Paris. ".repeat(bytes / 32 + 1);
    serde_json::from_value(serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": &text[..bytes]},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 40, "total_tokens": 52}
    }))
}

fn summarise(mut per_call: Vec<Duration>) -> (Duration, Duration) {
    per_call.sort();
    let mean = per_call.iter().sum::<Duration>() / per_call.len() as u32;
    (mean, per_call[per_call.len() * 99 / 100])
}

fn time<R>(mut f: impl FnMut() -> R) -> (Duration, Duration) {
    for _ in 0..200 {
        black_box(f());
    }
    summarise(
        (0..BATCHES)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..BATCH {
                    black_box(f());
                }
                start.elapsed() / BATCH
            })
            .collect(),
    )
}

fn us(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e6)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = SqlStore::connect("sqlite::memory:").await?;
    let kek = Arc::new(LocalKek::new(("bench", &[7u8; 32]), &[])?);
    let keyring = Keyring::new(&store, kek, Duration::from_secs(3600));
    let tenant = TenantId::new("bench");
    let record = "cache/gpt-4o-mini/00112233445566778899aabbccddeeff";
    // The first seal creates and stores the tenant's data key; later ones find it in memory.
    keyring.seal(&tenant, record, b"warm").await?;
    println!("| cached answer | step on a hit | mean µs | p99 µs |");
    println!("|---|---|---|---|");
    for size in [1024usize, 8 * 1024, 64 * 1024] {
        let response = answer(size)?;
        let bytes = serde_json::to_vec(&response)?;
        let sealed = keyring.seal(&tenant, record, &bytes).await?;
        let rows = [
            ("plain memory hit: clone", time(|| response.clone())),
            (
                "plain Redis hit: JSON decode",
                time(|| serde_json::from_slice::<ChatResponse>(&bytes).map(|_| ())),
            ),
            (
                "sealed hit: open (AES-256-GCM) + JSON decode",
                timed_async(|| async {
                    let plain = keyring.open(&tenant, record, &sealed).await.ok()?;
                    serde_json::from_slice::<ChatResponse>(&plain)
                        .ok()
                        .map(|_| ())
                })
                .await,
            ),
            (
                "sealed fill: seal (AES-256-GCM)",
                timed_async(|| async {
                    keyring.seal(&tenant, record, &bytes).await.map(|s| s.len())
                })
                .await,
            ),
        ];
        for (step, (mean, p99)) in rows {
            println!(
                "| {} KiB | {step} | {} | {} |",
                size / 1024,
                us(mean),
                us(p99)
            );
        }
    }
    Ok(())
}

async fn timed_async<F, Fut, R>(mut f: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = R>,
{
    for _ in 0..200 {
        black_box(f().await);
    }
    let mut per_call = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(f().await);
        }
        per_call.push(start.elapsed() / BATCH);
    }
    summarise(per_call)
}
