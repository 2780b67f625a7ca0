//! File metadata: tenant-scoped lookups, listing pages by id, deletion.

use gateway_core::TenantId;
use gateway_core::store::{FileQuery, FileRecord, FileStore};

use crate::harness::Harness;
use crate::tenants::now_ms;

fn file(id: &str, tenant: &str, purpose: &str) -> FileRecord {
    FileRecord {
        id: id.to_owned(),
        tenant: TenantId::new(tenant),
        filename: format!("{id}.jsonl"),
        purpose: purpose.to_owned(),
        bytes: 42,
        created_at: now_ms(),
    }
}

pub async fn files_are_scoped_to_their_tenant(h: &Harness) {
    let s = &h.store;
    let (acme, other) = (TenantId::new("acme"), TenantId::new("other"));
    let stored = file("file-1", "acme", "batch");
    s.create_file(&stored).await.unwrap();
    assert_eq!(
        s.get_file(&acme, "file-1").await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(s.get_file(&other, "file-1").await.unwrap(), None);
    assert!(!s.delete_file(&other, "file-1").await.unwrap());
    assert!(s.get_file(&acme, "file-1").await.unwrap().is_some());
    assert!(s.create_file(&stored).await.is_err());
    assert!(s.delete_file(&acme, "file-1").await.unwrap());
    assert_eq!(s.get_file(&acme, "file-1").await.unwrap(), None);
}

pub async fn files_list_by_cursor_purpose_and_order(h: &Harness) {
    let s = &h.store;
    let acme = TenantId::new("acme");
    for (id, purpose) in [
        ("file-a", "batch"),
        ("file-b", "batch_output"),
        ("file-c", "batch"),
    ] {
        s.create_file(&file(id, "acme", purpose)).await.unwrap();
    }
    s.create_file(&file("file-d", "other", "batch"))
        .await
        .unwrap();
    let ids = |v: Vec<FileRecord>| v.into_iter().map(|f| f.id).collect::<Vec<_>>();
    let newest = FileQuery {
        limit: 10,
        ..FileQuery::default()
    };
    assert_eq!(
        ids(s.list_files(&acme, &newest).await.unwrap()),
        ["file-c", "file-b", "file-a"]
    );
    let page = FileQuery {
        after: Some("file-c".into()),
        limit: 1,
        ..newest.clone()
    };
    assert_eq!(ids(s.list_files(&acme, &page).await.unwrap()), ["file-b"]);
    let batch_oldest = FileQuery {
        purpose: Some("batch".into()),
        ascending: true,
        ..newest
    };
    assert_eq!(
        ids(s.list_files(&acme, &batch_oldest).await.unwrap()),
        ["file-a", "file-c"]
    );
}
