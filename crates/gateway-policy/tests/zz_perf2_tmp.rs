use gateway_policy::guardrails::normalize::*;
use std::time::Instant;
#[test]
#[ignore]
fn perf2() {
    let benign = "I'm working on a Rust service that reads orders from a queue and writes them to PostgreSQL. Sometimes the consumer falls behind and I see the lag growing during peak hours, especially around 6pm. Can you suggest ways to batch the inserts, tune the connection pool, and decide whether to use COPY instead of INSERT? Also, how should I measure end-to-end latency and what metrics would you export to Prometheus? The team uses tokio, sqlx and deadpool; we deploy on Kubernetes with three replicas.";
    let mut n = Normalized::default();
    let iters = 20000;
    let t = Instant::now();
    for _ in 0..iters {
        normalize_into(std::hint::black_box(benign), Fold::Leet, &mut n);
    }
    println!("normalize {:?}", t.elapsed() / iters);
    let set = regex::RegexSetBuilder::new([r"<\|", r"(?m)^[ \t]*(?:#{1,6}|={2,}|-{2,}|\*{2}|>)?[ \t]*(?:system|assistant|developer|admin|administrator)(?:[ \t]+(?:message|prompt|instructions?|override|note|update))?[ \t]*(?::|\]|={2,}|-{2,}|\*\*)"]).case_insensitive(true).build().unwrap();
    let t = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(set.matches(benign));
    }
    println!("regexset2 {:?}", t.elapsed() / iters);
    let re =
        regex::Regex::new(r"(?:[0-9A-Fa-f]{2}[ :,]){7,}[0-9A-Fa-f]{2}|[A-Za-z0-9+/_\-]{16,}={0,2}")
            .unwrap();
    let t = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(re.find_iter(benign).count());
    }
    println!("segments {:?}", t.elapsed() / iters);
}
