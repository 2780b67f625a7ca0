//! Measures a backup and restore drill on a store of a stated size (the figures in
//! `docs/operations.md`): fills a store with tenants, keys, usage records and an audit chain,
//! then times `create_backup` (the snapshot), `verify_backup` and `restore_backup` into an
//! empty store of the same kind.
//!
//! ```sh
//! cargo run -p gateway-store --example backup_drill -- sqlite 200000
//! GATEWAY_TEST_DATABASE_URL=postgres://... cargo run -p gateway-store --example backup_drill -- postgres 200000
//! ```
//!
//! The arguments are the backend and the number of usage records (audit events: a tenth).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use gateway_core::phases::account::UsageRecord;
use gateway_core::store::{
    ApiKeyRecord, AuditEvent, AuditOutcome, AuditStore, KeyStore, Limits, Tenant, TenantStore,
    UsageStore,
};
use gateway_core::{GatewayRole, TenantId, Usage};
use gateway_store::backup::{BackupKey, RestoreOptions, verify_backup};
use gateway_store::{SqlStore, StoreOptions};

async fn open(backend: &str, dir: &std::path::Path, name: &str) -> (SqlStore, Option<String>) {
    match backend {
        "postgres" => {
            let url =
                std::env::var("GATEWAY_TEST_DATABASE_URL").expect("GATEWAY_TEST_DATABASE_URL");
            let schema = format!("gw_drill_{name}_{}", std::process::id());
            let options = StoreOptions {
                pg_schema: Some(schema.clone()),
                ..StoreOptions::default()
            };
            (
                SqlStore::connect_with(&url, &options).await.unwrap(),
                Some(schema),
            )
        }
        _ => (
            SqlStore::connect(&format!(
                "sqlite://{}?mode=rwc",
                dir.join(format!("{name}.db")).display()
            ))
            .await
            .unwrap(),
            None,
        ),
    }
}

async fn fill(store: &SqlStore, usage: usize) {
    for t in 0..100 {
        let id = TenantId::new(&format!("tenant-{t}"));
        store
            .create_tenant(&Tenant::new(id.clone(), format!("Tenant {t}")))
            .await
            .unwrap();
        for k in 0..10 {
            store
                .create_key(&ApiKeyRecord {
                    id: format!("key-{t}-{k}"),
                    tenant: id.clone(),
                    name: "app".to_owned(),
                    prefix: "sk-gw-AbCd".to_owned(),
                    hash: format!("{:064x}", t * 100 + k),
                    roles: vec![GatewayRole::Developer],
                    allowed_models: None,
                    allowed_networks: None,
                    limits: Limits::default(),
                    expires_at: None,
                    metadata: serde_json::json!({"owner": "ops"}),
                    enabled: true,
                    created_at: SystemTime::now(),
                    last_used_at: None,
                    revoked_at: None,
                })
                .await
                .unwrap();
        }
    }
    let now = SystemTime::now();
    let mut batch = Vec::with_capacity(1000);
    for i in 0..usage {
        batch.push(UsageRecord {
            request_id: Arc::from(format!("req-{i}").as_str()),
            at: now - Duration::from_secs((i % 86_400) as u64),
            tenant: TenantId::new(&format!("tenant-{}", i % 100)),
            subject: Arc::from(format!("key-{}-{}", i % 100, i % 10).as_str()),
            endpoint: "chat.completions",
            model: "gpt-4o-mini".to_owned(),
            provider: Some(Arc::from("openai")),
            upstream_model: Some(Arc::from("gpt-4o-mini-2024-07-18")),
            usage: Some(Usage::new(120, 80)),
            cost_usd: Some(0.000_066),
            status: 200,
            latency: Duration::from_millis(420),
            time_to_first_token: Some(Duration::from_millis(180)),
            stream: i % 2 == 0,
            cache_hit: false,
            saved_cost_usd: None,
            upstream_latency: None,
            cancelled: false,
            batch_id: None,
            quality: None,
            task: None,
            route_reason: None,
            guardrail_findings: Default::default(),
        });
        if batch.len() == 1000 {
            store.insert_usage(&batch).await.unwrap();
            batch.clear();
        }
    }
    store.insert_usage(&batch).await.unwrap();
    for i in 0..usage / 10 {
        store
            .append_audit(&AuditEvent {
                at: SystemTime::now(),
                tenant: Some(TenantId::new(&format!("tenant-{}", i % 100))),
                actor: "admin".to_owned(),
                action: "key.update".to_owned(),
                target: Some(format!("key-{}-{}", i % 100, i % 10)),
                outcome: AuditOutcome::Success,
                ip: Some("10.0.0.1".to_owned()),
                details: serde_json::json!({"fields": ["rpm"]}),
            })
            .await
            .unwrap();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = args.get(1).map_or("sqlite", String::as_str).to_owned();
    let usage: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let key = BackupKey::from_bytes([42u8; 32]);

    let (source, source_schema) = open(&backend, dir.path(), "source").await;
    let t = Instant::now();
    fill(&source, usage).await;
    println!(
        "filled {backend}: {usage} usage records, {} audit events, 100 tenants, 1000 keys in {:.1} s",
        usage / 10,
        t.elapsed().as_secs_f64()
    );

    let archive = dir.path().join("drill.gwbackup");
    let t = Instant::now();
    let manifest = source.create_backup(&archive, &key).await.unwrap();
    let backup_s = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&archive).unwrap().len();
    println!(
        "backup: {backup_s:.2} s, archive {:.1} MiB (payload {:.1} MiB)",
        size as f64 / 1_048_576.0,
        manifest.payload_bytes as f64 / 1_048_576.0
    );

    let t = Instant::now();
    verify_backup(&archive, &key).await.unwrap();
    println!("verify: {:.2} s", t.elapsed().as_secs_f64());

    let (target, target_schema) = open(&backend, dir.path(), "target").await;
    let t = Instant::now();
    let report = target
        .restore_backup(&archive, &key, &RestoreOptions::default())
        .await
        .unwrap();
    println!(
        "restore (load, verify counts and audit chain, audit event): {:.2} s, audit records checked {}",
        t.elapsed().as_secs_f64(),
        report.audit_checked
    );
    source.close().await;
    target.close().await;
    if let (Some(a), Some(b)) = (source_schema, target_schema) {
        use sqlx::Connection;
        let url = std::env::var("GATEWAY_TEST_DATABASE_URL").unwrap();
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        for schema in [a, b] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
}
