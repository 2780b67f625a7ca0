//! Prompt templates: versions, tenant isolation, latest-per-template listing, deletion, and
//! the definition sealed at rest when a keyring is set.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gateway_core::TenantId;
use gateway_core::store::{TemplateRecord, TemplateStore, Tenant, TenantStore};
use gateway_store::{Keyring, LocalKek};

use crate::harness::Harness;

fn version(key: &str, tenant: &str, id: &str, body: &str) -> TemplateRecord {
    TemplateRecord {
        key: key.to_owned(),
        tenant: TenantId::new(tenant),
        id: id.to_owned(),
        version: 0,
        description: format!("{id} template"),
        body: body.to_owned(),
        created_at: SystemTime::now(),
        created_by: "key_1".to_owned(),
    }
}

pub async fn template_versions_are_numbered_and_scoped(h: &Harness) {
    let (acme, beta) = (TenantId::new("acme"), TenantId::new("beta"));
    let s = &h.store;
    assert_eq!(
        s.add_template_version(&version("tpl_1", "acme", "greet", "{\"v\":1}"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.add_template_version(&version("tpl_2", "acme", "greet", "{\"v\":2}"))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.add_template_version(&version("tpl_3", "acme", "bye", "{}"))
            .await
            .unwrap(),
        1
    );
    // Another tenant's template of the same id is its own, numbered from 1.
    assert_eq!(
        s.add_template_version(&version("tpl_4", "beta", "greet", "{\"b\":1}"))
            .await
            .unwrap(),
        1
    );

    let latest = s.get_template(&acme, "greet", None).await.unwrap().unwrap();
    assert_eq!((latest.version, latest.body.as_str()), (2, "{\"v\":2}"));
    assert_eq!(latest.created_by, "key_1");
    let first = s
        .get_template(&acme, "greet", Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.version, first.body.as_str(), first.key.as_str()),
        (1, "{\"v\":1}", "tpl_1")
    );
    assert_eq!(s.get_template(&acme, "greet", Some(3)).await.unwrap(), None);
    assert_eq!(s.get_template(&beta, "bye", None).await.unwrap(), None);
    let versions: Vec<u32> = s
        .template_versions(&acme, "greet")
        .await
        .unwrap()
        .iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, [1, 2]);

    let listed: Vec<(String, u32)> = s
        .list_templates(Some(&acme), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.version))
        .collect();
    assert_eq!(listed, [("bye".to_owned(), 1), ("greet".to_owned(), 2)]);
    assert_eq!(s.list_templates(None, 100).await.unwrap().len(), 3);
    assert_eq!(s.list_templates(None, 1).await.unwrap().len(), 1);

    // Deleting names the tenant: beta's delete of acme's template removes nothing.
    assert_eq!(s.delete_template(&beta, "bye").await.unwrap(), 0);
    assert_eq!(s.delete_template(&acme, "greet").await.unwrap(), 2);
    assert_eq!(s.get_template(&acme, "greet", None).await.unwrap(), None);
    assert!(
        s.get_template(&beta, "greet", None)
            .await
            .unwrap()
            .is_some()
    );
    // A template created again after deletion starts over at 1.
    assert_eq!(
        s.add_template_version(&version("tpl_5", "acme", "greet", "{}"))
            .await
            .unwrap(),
        1
    );
}

pub async fn concurrent_template_writers_get_distinct_versions(h: &Harness) {
    let other = h.second_instance().await;
    let a = version("tpl_a", "acme", "race", "{}");
    let b = version("tpl_b", "acme", "race", "{}");
    let (va, vb) = tokio::join!(
        h.store.add_template_version(&a),
        other.add_template_version(&b)
    );
    let mut got = [va.unwrap(), vb.unwrap()];
    got.sort();
    assert_eq!(got, [1, 2]);
    other.close().await;
}

pub async fn template_bodies_are_sealed_at_rest(h: &Harness) {
    let kek = Arc::new(LocalKek::new(("k1", &[7u8; 32]), &[]).unwrap());
    h.store.set_keyring(Arc::new(Keyring::new(
        &h.store,
        kek,
        Duration::from_secs(60),
    )));
    h.store
        .create_tenant(&Tenant::new(TenantId::new("acme"), "acme"))
        .await
        .unwrap();
    let body = r#"{"prompt":"the launch code is 4242"}"#;
    h.store
        .add_template_version(&version("tpl_s", "acme", "secret", body))
        .await
        .unwrap();
    let raw = h
        .raw_scalar_text("SELECT body FROM prompt_templates WHERE id = 'tpl_s'")
        .await;
    assert!(!raw.contains("4242"), "{raw}");
    let got = h
        .store
        .get_template(&TenantId::new("acme"), "secret", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.body, body);
}
