//! Key and tenant lifecycle as seen by `/v1/chat/completions`, authentication failures,
//! input validation and privilege escalation.

use super::*;

#[tokio::test]
async fn key_lifecycle_from_create_to_revoke() {
    let gw = start().await;
    let t = admin(
        &gw,
        ADMIN_TOKEN,
        Method::POST,
        "/admin/v1/tenants",
        r#"{"id":"globex","name":"Globex","allowed_models":["gpt-test"]}"#,
    )
    .await;
    assert_eq!(t.status, 201, "{:?}", t.body);
    assert_eq!(t.json()["allowed_models"], json!(["gpt-test"]));

    let created = admin(
        &gw,
        ADMIN_TOKEN,
        Method::POST,
        "/admin/v1/keys",
        r#"{"tenant":"globex","name":"app","expires_in_days":30,"metadata":{"owner":"ops"}}"#,
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let created = created.json();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created.get("hash").is_none());
    assert_eq!(created["roles"], json!(["developer"]));
    assert_eq!(created["status"], "active");
    assert!(created["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(chat_status(&gw, &secret).await, 200);

    let shown = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        &format!("/admin/v1/keys/{id}"),
        "",
    )
    .await
    .json();
    assert!(
        shown.get("secret").is_none() && shown.get("hash").is_none(),
        "{shown}"
    );
    assert_eq!(shown["metadata"]["owner"], "ops");
    let listed = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        "/admin/v1/keys?tenant=globex",
        "",
    )
    .await
    .json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&listed).unwrap()).contains(&secret));

    // Disabling the key, then the tenant, takes effect at once.
    let off = admin(
        &gw,
        ADMIN_TOKEN,
        Method::PATCH,
        &format!("/admin/v1/keys/{id}"),
        r#"{"enabled":false}"#,
    )
    .await;
    assert_eq!(off.json()["status"], "disabled");
    assert_eq!(chat_status(&gw, &secret).await, 401);
    admin(
        &gw,
        ADMIN_TOKEN,
        Method::PATCH,
        &format!("/admin/v1/keys/{id}"),
        r#"{"enabled":true}"#,
    )
    .await;
    assert_eq!(chat_status(&gw, &secret).await, 200);
    let off = admin(
        &gw,
        ADMIN_TOKEN,
        Method::PATCH,
        "/admin/v1/tenants/globex",
        r#"{"enabled":false}"#,
    )
    .await;
    assert_eq!(off.json()["enabled"], false);
    assert_eq!(chat_status(&gw, &secret).await, 401);
    admin(
        &gw,
        ADMIN_TOKEN,
        Method::PATCH,
        "/admin/v1/tenants/globex",
        r#"{"enabled":true}"#,
    )
    .await;
    assert_eq!(chat_status(&gw, &secret).await, 200);

    // Rotation: a new secret with the same settings; the old one stops working.
    let rotated = admin(
        &gw,
        ADMIN_TOKEN,
        Method::POST,
        &format!("/admin/v1/keys/{id}/rotate"),
        "",
    )
    .await;
    assert_eq!(rotated.status, 201, "{:?}", rotated.body);
    let rotated = rotated.json();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    let new_id = rotated["id"].as_str().unwrap().to_owned();
    assert_eq!(rotated["replaces"], id.as_str());
    assert_eq!(
        (rotated["name"].as_str(), rotated["tenant"].as_str()),
        (Some("app"), Some("globex"))
    );
    assert_eq!(rotated["metadata"]["owner"], "ops");
    assert_ne!(new_secret, secret);
    assert_eq!(chat_status(&gw, &secret).await, 401);
    assert_eq!(chat_status(&gw, &new_secret).await, 200);
    let old = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        &format!("/admin/v1/keys/{id}"),
        "",
    )
    .await
    .json();
    assert_eq!(old["status"], "revoked");
    let again = admin(
        &gw,
        ADMIN_TOKEN,
        Method::POST,
        &format!("/admin/v1/keys/{id}/rotate"),
        "",
    )
    .await;
    assert_eq!(again.status, 400);

    // Revocation stops the very next call, and is idempotent.
    let revoked = admin(
        &gw,
        ADMIN_TOKEN,
        Method::POST,
        &format!("/admin/v1/keys/{new_id}/revoke"),
        "{}",
    )
    .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(revoked.json()["status"], "revoked");
    assert_eq!(chat_status(&gw, &new_secret).await, 401);
    let twice = admin(
        &gw,
        ADMIN_TOKEN,
        Method::POST,
        &format!("/admin/v1/keys/{new_id}/revoke"),
        "",
    )
    .await;
    assert_eq!(twice.status, 200);

    // Deleting the tenant removes its keys.
    let deleted = admin(
        &gw,
        ADMIN_TOKEN,
        Method::DELETE,
        "/admin/v1/tenants/globex",
        "",
    )
    .await;
    assert_eq!(deleted.status, 200);
    let gone = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        &format!("/admin/v1/keys/{new_id}"),
        "",
    )
    .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn authentication_failures_reveal_nothing() {
    let gw = start().await;
    let none = send(Method::GET, &gw.url("/admin/v1/tenants"), "", &[]).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["error"]["type"], "authentication_error");

    let wrong = admin(
        &gw,
        "admin-token-0123456789abcdeX",
        Method::GET,
        "/admin/v1/tenants",
        "",
    )
    .await;
    let unknown_key = admin(
        &gw,
        "sk-gw-0000000000000000000000000000000000000000000",
        Method::GET,
        "/admin/v1/tenants",
        "",
    )
    .await;
    let revoked = {
        let manager = gw.state.auth.key_manager.as_ref().unwrap();
        let mut new = NewApiKey::new(TenantId::new("acme"), "soon revoked");
        new.roles = vec![GatewayRole::Admin];
        let created = manager.create(new).await.unwrap();
        manager.revoke(&created.record.id).await.unwrap();
        admin(
            &gw,
            created.secret.expose(),
            Method::GET,
            "/admin/v1/tenants",
            "",
        )
        .await
    };
    for reply in [&wrong, &unknown_key, &revoked] {
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.json()["error"]["message"],
            wrong.json()["error"]["message"]
        );
    }

    // A developer key authenticates but may not administer.
    let dev = admin(&gw, &gw.key, Method::GET, "/admin/v1/keys", "").await;
    assert_eq!(dev.status, 403);
    assert_eq!(dev.json()["error"]["type"], "permission_error");

    // Without an [admin] token, the token is just another invalid credential.
    let plain = TestGateway::start().await;
    let r = admin(&plain, ADMIN_TOKEN, Method::GET, "/admin/v1/tenants", "").await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn inputs_are_validated() {
    let gw = start().await;
    let post =
        |path: &'static str, body: &'static str| admin(&gw, ADMIN_TOKEN, Method::POST, path, body);
    let r = post("/admin/v1/tenants", "{not json").await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let r = post("/admin/v1/tenants", r#"{"id":"x","colour":"red"}"#).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
    let r = post("/admin/v1/tenants", r#"{"id":"bad id!"}"#).await;
    assert_eq!(r.status, 400);
    let r = post("/admin/v1/tenants", r#"{"id":"acme"}"#).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["code"].as_str()),
        (400, Some("already_exists"))
    );
    let r = post("/admin/v1/keys", r#"{"tenant":"nowhere","name":"k"}"#).await;
    assert_eq!(r.status, 404);
    let r = post(
        "/admin/v1/keys",
        r#"{"tenant":"acme","name":"k","roles":["wizard"]}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("wizard")
    );
    let r = post(
        "/admin/v1/keys",
        r#"{"tenant":"acme","name":"k","expires_at":"2030-01-01","expires_in_days":3}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    let r = post("/admin/v1/keys/key_nope/revoke", "").await;
    assert_eq!(r.status, 404);
    let r = post("/admin/v1/keys/key_nope/revoke", r#"{"why":"x"}"#).await;
    assert_eq!(r.status, 404, "the key is looked up before the body");
    let r = admin(&gw, ADMIN_TOKEN, Method::GET, "/admin/v1/tenants/nope", "").await;
    assert_eq!(r.status, 404);
    let r = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        "/admin/v1/usage?tenat=acme",
        "",
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tenat")
    );
    let r = admin(
        &gw,
        ADMIN_TOKEN,
        Method::GET,
        "/admin/v1/usage?from=yesterday",
        "",
    )
    .await;
    assert_eq!(r.status, 400);
    let r = admin(&gw, ADMIN_TOKEN, Method::GET, "/admin/v1/nothing", "").await;
    assert_eq!(r.status, 404);
    let r = admin(&gw, ADMIN_TOKEN, Method::PUT, "/admin/v1/tenants", "").await;
    assert_eq!(r.status, 405);

    // Privilege escalation: a tenant admin cannot mint or grant admin keys.
    let ta = key_with_role(&gw, "acme", GatewayRole::TenantAdmin).await;
    let r = admin(
        &gw,
        &ta,
        Method::POST,
        "/admin/v1/keys",
        r#"{"tenant":"acme","name":"k","roles":["admin"]}"#,
    )
    .await;
    assert_eq!(r.status, 403);
    let id = fresh_key_id(&gw, "acme").await;
    let r = admin(
        &gw,
        &ta,
        Method::PATCH,
        &format!("/admin/v1/keys/{id}"),
        r#"{"roles":["admin"]}"#,
    )
    .await;
    assert_eq!(r.status, 403);
    let r = admin(
        &gw,
        &ta,
        Method::PATCH,
        &format!("/admin/v1/keys/{id}"),
        r#"{"roles":["viewer"],"allowed_models":null}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["roles"], json!(["viewer"]));

    // ... nor rotate (and so obtain the secret of), disable or revoke an admin key.
    let admin_key = gw.state.auth.key_manager.as_ref().unwrap();
    let mut new = NewApiKey::new(TenantId::new("acme"), "acme admin");
    new.roles = vec![GatewayRole::Admin];
    let admin_id = admin_key.create(new).await.unwrap().record.id;
    for (method, path, body) in [
        (
            Method::POST,
            format!("/admin/v1/keys/{admin_id}/rotate"),
            "",
        ),
        (
            Method::POST,
            format!("/admin/v1/keys/{admin_id}/revoke"),
            "",
        ),
        (
            Method::PATCH,
            format!("/admin/v1/keys/{admin_id}"),
            r#"{"enabled":false}"#,
        ),
    ] {
        let r = admin(&gw, &ta, method, &path, body).await;
        assert_eq!(r.status, 403, "{path}");
    }
    let r = admin(
        &gw,
        &ta,
        Method::GET,
        &format!("/admin/v1/keys/{admin_id}"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "reading is allowed");
}
