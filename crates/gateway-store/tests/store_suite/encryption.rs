//! Envelope encryption of stored content: ciphertext at rest, bound to tenant and record;
//! crypto-shredding on tenant deletion (store, audit details, backups taken afterwards);
//! data-key rotation with re-encryption; KEK rotation by re-wrapping.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gateway_core::TenantId;
use gateway_core::encryption::{CipherError, ContentCipher};
use gateway_core::store::{
    AsyncJob, AsyncJobStore, AsyncResult, AsyncStatus, AuditEvent, AuditOutcome, AuditQuery,
    AuditStore, ResponseStore, StoredResponse, Tenant, TenantStore,
};
use gateway_store::backup::{BackupKey, RestoreOptions};
use gateway_store::{Keyring, LocalKek, SqlStore};
use serde_json::json;

use crate::harness::Harness;
use crate::tenants::now_ms;

const SECRET: &str = "the launch code is 4242";

fn kek(id: &str, byte: u8, retired: &[(&str, u8)]) -> Arc<LocalKek> {
    let keys: Vec<(&str, [u8; 32])> = retired.iter().map(|(i, b)| (*i, [*b; 32])).collect();
    let retired: Vec<(&str, &[u8])> = keys.iter().map(|(i, k)| (*i, k.as_slice())).collect();
    Arc::new(LocalKek::new((id, &[byte; 32]), &retired).unwrap())
}

fn sealing(store: &SqlStore, kek: Arc<LocalKek>) -> Arc<Keyring> {
    let keyring = Arc::new(Keyring::new(store, kek, Duration::from_secs(60)));
    store.set_keyring(keyring.clone());
    keyring
}

fn response(id: &str, tenant: &str) -> StoredResponse {
    StoredResponse {
        id: id.to_owned(),
        tenant: TenantId::new(tenant),
        created_at: SystemTime::now(),
        response: format!(r#"{{"id":"{id}","output_text":"{SECRET}"}}"#),
        input_items: format!(r#"[{{"content":"{SECRET}"}}]"#),
        conversation: format!(r#"[{{"role":"user","content":"{SECRET}"}}]"#),
    }
}

async fn raw_response(h: &Harness, id: &str) -> String {
    h.raw_scalar_text(&format!("SELECT response FROM responses WHERE id = '{id}'"))
        .await
}

async fn tenants(h: &Harness, ids: &[&str]) {
    for id in ids {
        h.store
            .create_tenant(&Tenant::new(TenantId::new(id), *id))
            .await
            .unwrap();
    }
}

pub async fn stored_content_is_sealed_and_bound_to_tenant_and_record(h: &Harness) {
    let keyring = sealing(&h.store, kek("k1", 1, &[]));
    tenants(h, &["acme", "beta"]).await;
    let acme = TenantId::new("acme");
    h.store
        .put_response(&response("resp_a", "acme"))
        .await
        .unwrap();
    h.store
        .put_response(&response("resp_a2", "acme"))
        .await
        .unwrap();
    h.store
        .put_response(&response("resp_b", "beta"))
        .await
        .unwrap();
    let at_rest = raw_response(h, "resp_a").await;
    assert!(at_rest.starts_with("gwe1:"), "{at_rest}");
    assert!(!at_rest.contains("launch"), "plaintext at rest: {at_rest}");
    let got = h
        .store
        .get_response(&acme, "resp_a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.conversation, response("resp_a", "acme").conversation);

    // A sealed value moved to another tenant's row, or another record of the same tenant,
    // does not open.
    h.raw_execute(&format!(
        "UPDATE responses SET response = '{at_rest}' WHERE id = 'resp_b'"
    ))
    .await;
    assert!(
        h.store
            .get_response(&TenantId::new("beta"), "resp_b")
            .await
            .is_err()
    );
    h.raw_execute(&format!(
        "UPDATE responses SET response = '{at_rest}' WHERE id = 'resp_a2'"
    ))
    .await;
    assert!(h.store.get_response(&acme, "resp_a2").await.is_err());
    let sealed = keyring.seal(&acme, "r1", b"x").await.unwrap();
    assert_eq!(
        keyring.open(&TenantId::new("beta"), "r1", &sealed).await,
        Err(CipherError::Corrupt)
    );

    // Async calls: request and result sealed the same way.
    let now = now_ms();
    h.store
        .create_job(&AsyncJob {
            id: "async_1".to_owned(),
            tenant: acme.clone(),
            route: "/v1/chat/completions".to_owned(),
            status: AsyncStatus::Pending,
            request: format!(r#"{{"body":"{SECRET}"}}"#),
            callback_url: None,
            result: None,
            attempts: 0,
            retried: false,
            notified: false,
            created_at: now,
            updated_at: now,
            completed_at: None,
        })
        .await
        .unwrap();
    let leased = h
        .store
        .lease_jobs("w", 5, now, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(leased[0].request.contains(SECRET), "leased jobs are opened");
    let result = AsyncResult {
        status: 200,
        headers: "{}".to_owned(),
        body: format!(r#"{{"answer":"{SECRET}"}}"#),
    };
    assert!(
        h.store
            .complete_job("async_1", "w", &result, now)
            .await
            .unwrap()
    );
    for col in ["request", "result_body"] {
        let raw = h
            .raw_scalar_text(&format!(
                "SELECT {col} FROM async_jobs WHERE id = 'async_1'"
            ))
            .await;
        assert!(
            raw.starts_with("gwe1:") && !raw.contains("launch"),
            "{col}: {raw}"
        );
    }
    let job = h.store.get_job(&acme, "async_1").await.unwrap().unwrap();
    assert_eq!(job.result.unwrap().body, result.body);
}

async fn audit_message(store: &SqlStore, tenant: &str) -> serde_json::Value {
    let records = store
        .list_audit(&AuditQuery {
            tenant: Some(TenantId::new(tenant)),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    records[0].event.details["message"].clone()
}

pub async fn deleting_a_tenant_shreds_its_content_everywhere(h: &Harness) {
    let keyring = sealing(&h.store, kek("k1", 1, &[]));
    tenants(h, &["acme", "beta"]).await;
    let (acme, beta) = (TenantId::new("acme"), TenantId::new("beta"));
    for (id, t) in [("resp_a", "acme"), ("resp_b", "beta")] {
        h.store.put_response(&response(id, t)).await.unwrap();
        h.store
            .append_audit(&AuditEvent {
                at: SystemTime::now(),
                tenant: Some(TenantId::new(t)),
                actor: "k".to_owned(),
                action: "guardrail.block".to_owned(),
                target: None,
                outcome: AuditOutcome::Denied,
                ip: None,
                details: json!({"message": SECRET, "rule": "r1"}),
            })
            .await
            .unwrap();
    }
    let raw_details = h
        .raw_scalar_text("SELECT details FROM audit_events WHERE tenant = 'acme'")
        .await;
    assert!(!raw_details.contains("launch"), "{raw_details}");
    assert_eq!(audit_message(&h.store, "acme").await, json!(SECRET));
    let cache_like = keyring
        .seal(&acme, "cache/x", SECRET.as_bytes())
        .await
        .unwrap();

    h.store.delete_tenant(&acme).await.unwrap();

    // In the store: the row is there, its content is gone for good.
    assert!(raw_response(h, "resp_a").await.starts_with("gwe1:"));
    assert!(h.store.get_response(&acme, "resp_a").await.is_err());
    assert_eq!(
        keyring.open(&acme, "cache/x", &cache_like).await,
        Err(CipherError::Shredded)
    );
    // Another instance (a fresh keyring over the same database) cannot open it either.
    let other = h.second_instance().await;
    let other_ring = sealing(&other, kek("k1", 1, &[]));
    assert_eq!(
        other_ring.open(&acme, "cache/x", &cache_like).await,
        Err(CipherError::Shredded)
    );
    // The audit chain still verifies; the content field reads as destroyed.
    assert!(h.store.verify_audit().await.unwrap().is_intact());
    assert_eq!(audit_message(&h.store, "acme").await, json!("[destroyed]"));
    // Other tenants are untouched.
    assert!(
        h.store
            .get_response(&beta, "resp_b")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(audit_message(&h.store, "beta").await, json!(SECRET));

    // A backup taken now holds the ciphertext and no key for it: restored, still unreadable.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("after.gwbackup");
    let key = BackupKey::from_bytes([3u8; 32]);
    h.store.create_backup(&path, &key).await.unwrap();
    let target = h.fresh().await;
    let restored_ring = sealing(&target.store, kek("k1", 1, &[]));
    target
        .store
        .restore_backup(&path, &key, &RestoreOptions::default())
        .await
        .unwrap();
    restored_ring.forget(&acme);
    assert!(
        target
            .raw_scalar_text("SELECT response FROM responses WHERE id = 'resp_a'")
            .await
            .starts_with("gwe1:")
    );
    assert!(target.store.get_response(&acme, "resp_a").await.is_err());
    assert_eq!(
        restored_ring.open(&acme, "cache/x", &cache_like).await,
        Err(CipherError::Shredded)
    );
    assert!(
        target
            .store
            .get_response(&beta, "resp_b")
            .await
            .unwrap()
            .is_some()
    );

    // A tenant created again under the same id gets new keys; the old content stays gone.
    tenants(h, &["acme"]).await;
    let fresh = keyring.seal(&acme, "cache/x", b"new").await.unwrap();
    assert_eq!(
        keyring.open(&acme, "cache/x", &fresh).await.unwrap(),
        b"new"
    );
    assert_eq!(
        keyring.open(&acme, "cache/x", &cache_like).await,
        Err(CipherError::Shredded)
    );
    target.finish().await;
}

pub async fn data_key_rotation_reencrypts_and_kek_rotation_rewraps(h: &Harness) {
    let keyring = sealing(&h.store, kek("k1", 1, &[]));
    tenants(h, &["acme"]).await;
    let acme = TenantId::new("acme");
    // A row written before encryption was on is plaintext until re-encrypted.
    h.raw_execute(&format!(
        "INSERT INTO responses (id, tenant, created_at_ms, response, input_items, conversation) \
         VALUES ('resp_old', 'acme', 1, '{{}}', '[]', '[\"{SECRET}\"]')"
    ))
    .await;
    h.store
        .put_response(&response("resp_v1", "acme"))
        .await
        .unwrap();
    let v1 = raw_response(h, "resp_v1").await;
    assert_eq!(keyring.rotate_tenant(&acme).await.unwrap(), 2);
    // New writes use version 2; version 1 still opens.
    h.store
        .put_response(&response("resp_v2", "acme"))
        .await
        .unwrap();
    let version = |text: &str| {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim_start_matches("gwe1:"))
            .unwrap();
        keyring.key_version(&bytes).unwrap()
    };
    assert_eq!(version(&raw_response(h, "resp_v2").await), 2);
    assert_eq!(version(&v1), 1);
    assert!(
        h.store
            .get_response(&acme, "resp_v1")
            .await
            .unwrap()
            .is_some()
    );

    let report = h.store.reencrypt_tenant(&acme).await.unwrap();
    // resp_old: 3 columns; resp_v1: 3 columns; resp_v2 is current.
    assert_eq!(report.resealed, 6, "{report:?}");
    assert_eq!(report.current, 3, "{report:?}");
    assert_eq!(version(&raw_response(h, "resp_v1").await), 2);
    let old = h
        .store
        .get_response(&acme, "resp_old")
        .await
        .unwrap()
        .unwrap();
    assert!(old.conversation.contains(SECRET));
    let raw_old = h
        .raw_scalar_text("SELECT conversation FROM responses WHERE id = 'resp_old'")
        .await;
    assert!(!raw_old.contains("launch"));

    // KEK rotation: k2 current, k1 retired; re-wrap; then k1 can go.
    let rotated = sealing(&h.second_instance().await, kek("k2", 2, &[("k1", 1)]));
    let rewrap = rotated.rewrap_all().await.unwrap();
    assert_eq!((rewrap.rewrapped, rewrap.already_current), (2, 0));
    let status = rotated.status(&acme).await.unwrap();
    assert!(status.versions.iter().all(|(_, k)| k == "k2"), "{status:?}");
    let only_k2 = h.second_instance().await;
    sealing(&only_k2, kek("k2", 2, &[]));
    let got = only_k2
        .get_response(&acme, "resp_v2")
        .await
        .unwrap()
        .unwrap();
    assert!(got.conversation.contains(SECRET));
}
