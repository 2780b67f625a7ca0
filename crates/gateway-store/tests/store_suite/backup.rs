//! Backup and restore: a round trip of every table, coverage of the whole schema, and the
//! refusals (tampered, truncated, wrong key, other schema version, non-empty target).

use std::time::Duration;

use gateway_core::TenantId;
use gateway_core::store::{
    AuditEvent, AuditOutcome, AuditQuery, AuditStore, KeyStore, TenantStore, UsageDimension,
    UsageQuery, UsageStore,
};
use gateway_store::backup::{BackupError, BackupKey, RestoreOptions, read_manifest, verify_backup};
use gateway_store::{SqlStore, StoreError};
use serde_json::json;

use crate::harness::Harness;
use crate::keys::new_key;
use crate::tenants::{new_tenant, now_ms};
use crate::usage::{day0, rec};

fn key() -> BackupKey {
    BackupKey::from_bytes([7u8; 32])
}

/// Tenants, keys, usage records and an audit chain, through the store's own API.
async fn populate(s: &SqlStore) {
    for t in ["acme", "globex"] {
        s.create_tenant(&new_tenant(t)).await.unwrap();
    }
    s.create_key(&new_key("key_1", "acme", &"ab".repeat(32)))
        .await
        .unwrap();
    s.create_key(&new_key("key_2", "globex", &"cd".repeat(32)))
        .await
        .unwrap();
    let t0 = day0();
    let records: Vec<_> = (0..250u64)
        .map(|i| {
            rec(
                if i % 3 == 0 { "globex" } else { "acme" },
                "key_1",
                "gpt-4o",
                t0 + Duration::from_secs(i * 60),
                (10 + i, 5),
                Some(0.001 * i as f64 + 0.1),
            )
        })
        .collect();
    s.insert_usage(&records).await.unwrap();
    for i in 0..20 {
        s.append_audit(&AuditEvent {
            at: now_ms(),
            tenant: Some(TenantId::new("acme")),
            actor: "admin".to_owned(),
            action: "key.create".to_owned(),
            target: Some(format!("key_{i}")),
            outcome: AuditOutcome::Success,
            ip: Some("10.0.0.1".to_owned()),
            details: json!({"n": i, "text": "quote \" newline \n unicode é"}),
        })
        .await
        .unwrap();
    }
}

async fn totals(s: &SqlStore) -> Vec<(Option<String>, u64, u64, String)> {
    s.query_usage(&UsageQuery {
        group_by: vec![UsageDimension::Tenant],
        ..UsageQuery::default()
    })
    .await
    .unwrap()
    .into_iter()
    .map(|a| {
        (
            a.tenant.map(|t| t.as_str().to_owned()),
            a.totals.requests,
            a.totals.total_tokens,
            format!("{:.6}", a.totals.cost_usd),
        )
    })
    .collect()
}

fn all_audit() -> AuditQuery {
    AuditQuery {
        limit: 10_000,
        ..AuditQuery::default()
    }
}

pub async fn backup_restores_every_table_into_an_empty_store(h: &Harness) {
    populate(&h.store).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.gwbackup");
    let manifest = h.store.create_backup(&path, &key()).await.unwrap();
    assert!(!dir.path().join("b.gwbackup.partial").exists());
    assert!(!dir.path().join("b.gwbackup.snapshot").exists());
    assert_eq!(manifest.id, "b");
    assert_eq!(manifest.backend, h.store_backend());
    assert_eq!(manifest.rows("tenants"), 2);
    assert_eq!(manifest.rows("api_keys"), 2);
    assert_eq!(manifest.rows("usage_records"), 250);
    assert_eq!(manifest.rows("audit_events"), 20);
    assert_eq!(manifest.audit_head.as_ref().unwrap().seq, 20);
    assert_eq!(read_manifest(&path, &key()).await.unwrap(), manifest);
    assert_eq!(verify_backup(&path, &key()).await.unwrap(), manifest);

    // The gateway writes on after the snapshot: not in the backup.
    h.store.create_tenant(&new_tenant("late")).await.unwrap();

    let target = h.fresh().await;
    let report = target
        .store
        .restore_backup(
            &path,
            &key(),
            &RestoreOptions {
                replace: false,
                actor: "drill".to_owned(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.audit_seq, 21);
    assert!(report.gap_ms >= 0);
    let t = &target.store;
    let mut tenants: Vec<String> = t
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id.as_str().to_owned())
        .collect();
    tenants.sort();
    assert_eq!(tenants, ["acme", "globex"]);
    let restored_key = t.get_key_by_hash(&"ab".repeat(32)).await.unwrap().unwrap();
    assert_eq!(
        restored_key,
        h.store.get_key("key_1").await.unwrap().unwrap()
    );
    assert_eq!(totals(t).await, totals(&h.store).await);
    let source_audit = h.store.list_audit(&all_audit()).await.unwrap();
    let restored_audit = t.list_audit(&all_audit()).await.unwrap();
    assert_eq!(restored_audit[..20], source_audit[..]);
    let restore_event = &restored_audit[20];
    assert_eq!(restore_event.event.action, "backup.restored");
    assert_eq!(restore_event.event.actor, "drill");
    assert_eq!(restore_event.event.target.as_deref(), Some("b"));
    assert_eq!(
        restore_event.event.details["backup_created_at_ms"],
        json!(manifest.created_at_ms)
    );
    assert_eq!(restore_event.event.details["gap_ms"], json!(report.gap_ms));
    let chain = t.verify_audit().await.unwrap();
    assert_eq!((chain.checked, chain.first_broken_seq), (21, None));
    // New rows continue after the restored ones (sequences and identities moved on).
    t.insert_usage(&[rec("acme", "k", "m", day0(), (1, 1), None)])
        .await
        .unwrap();
    assert_eq!(t.table_counts().await.unwrap()["usage_records"], 251);

    // A store that is not empty is refused unless asked to replace.
    let err = t
        .restore_backup(&path, &key(), &RestoreOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Backup(BackupError::NotEmpty { .. })),
        "{err}"
    );
    let replace = RestoreOptions {
        replace: true,
        actor: String::new(),
    };
    t.restore_backup(&path, &key(), &replace).await.unwrap();
    assert_eq!(t.table_counts().await.unwrap()["usage_records"], 250);
    assert!(
        t.get_tenant(&TenantId::new("late"))
            .await
            .unwrap()
            .is_none()
    );
    target.finish().await;
}

/// Every table of the migrated schema is in the backup: a table added by a migration is
/// covered without a list to update (the ledger of migrations is the only table left out).
pub async fn backup_covers_every_table_of_the_schema(h: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.gwbackup");
    let manifest = h.store.create_backup(&path, &key()).await.unwrap();
    let mut in_backup: Vec<String> = manifest.tables.iter().map(|t| t.name.clone()).collect();
    in_backup.sort();
    let mut in_schema = h.all_tables().await;
    in_schema.retain(|t| t != "_sqlx_migrations");
    assert_eq!(in_backup, in_schema);
    for core in ["tenants", "api_keys", "usage_records", "audit_events"] {
        assert!(in_backup.iter().any(|t| t == core), "{core} not covered");
    }
    // Parents come before children in the restore order.
    let pos = |n: &str| manifest.tables.iter().position(|t| t.name == n).unwrap();
    assert!(pos("tenants") < pos("api_keys"));
    assert_eq!(
        manifest.schema_version,
        h.store.schema_version().await.unwrap()
    );
    assert!(manifest.schema_version >= 7);
}

pub async fn damaged_archives_and_wrong_targets_are_refused(h: &Harness) {
    populate(&h.store).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.gwbackup");
    h.store.create_backup(&path, &key()).await.unwrap();
    let bytes = std::fs::read(&path).unwrap();

    // A flipped byte inside the payload.
    let flipped = dir.path().join("flipped.gwbackup");
    let mut copy = bytes.clone();
    let mid = copy.len() / 2;
    copy[mid] ^= 0x01;
    std::fs::write(&flipped, &copy).unwrap();
    let err = verify_backup(&flipped, &key()).await.unwrap_err();
    assert!(matches!(err, BackupError::Tampered { .. }), "{err}");
    assert!(err.to_string().contains("modified or damaged"), "{err}");

    // Cut short: the end marker is gone.
    let truncated = dir.path().join("truncated.gwbackup");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    let err = verify_backup(&truncated, &key()).await.unwrap_err();
    assert!(matches!(err, BackupError::Truncated), "{err}");

    // Another key.
    let other = BackupKey::from_bytes([8u8; 32]);
    let err = verify_backup(&path, &other).await.unwrap_err();
    assert!(matches!(err, BackupError::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains("another key"), "{err}");
    assert!(BackupKey::from_base64("c2hvcnQ=").is_err());

    // Not an archive at all.
    let junk = dir.path().join("junk.gwbackup");
    std::fs::write(&junk, b"hello").unwrap();
    assert!(matches!(
        verify_backup(&junk, &key()).await.unwrap_err(),
        BackupError::NotAnArchive
    ));

    // A damaged archive writes nothing into the target.
    let target = h.fresh().await;
    let err = target
        .store
        .restore_backup(&flipped, &key(), &RestoreOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Backup(BackupError::Tampered { .. })),
        "{err}"
    );
    assert!(
        target
            .store
            .table_counts()
            .await
            .unwrap()
            .values()
            .all(|n| *n == 0)
    );

    // A target at another schema version.
    let checksum = if target.schema.is_some() {
        "decode('00', 'hex')"
    } else {
        "X'00'"
    };
    target
        .raw_execute(&format!(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
             VALUES (99999, 'future', CURRENT_TIMESTAMP, TRUE, {checksum}, 0)"
        ))
        .await;
    let err = target
        .store
        .restore_backup(&path, &key(), &RestoreOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Backup(BackupError::SchemaVersion { store: 99999, .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("schema mismatch"), "{err}");
    target.finish().await;
}
