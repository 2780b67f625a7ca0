//! Each subcommand: the admin API call it makes and how its answer is shown.

use http::Method;
use serde_json::{Map, Value, json};

use crate::cli::{
    AnomaliesCmd, AuditArgs, AuditCmd, HealthArgs, KeysCmd, LimitArgs, TenantsCmd, UsageArgs,
};
use crate::client::{Client, CtlError, encode, query};
use crate::output;

/// What a command prints (and whether it failed after printing).
pub struct Outcome {
    pub text: String,
    /// Exit 1 after printing (e.g. a broken audit chain).
    pub failed: bool,
}

impl Outcome {
    pub(crate) fn ok(text: String) -> Self {
        Outcome {
            text,
            failed: false,
        }
    }
}

fn limits(l: &LimitArgs) -> Value {
    let mut map = Map::new();
    let fields = [
        ("rps", l.rps.map(Value::from)),
        ("rpm", l.rpm.map(Value::from)),
        ("rpd", l.rpd.map(Value::from)),
        ("tpm", l.tpm.map(Value::from)),
        ("tpd", l.tpd.map(Value::from)),
        ("max_concurrency", l.max_concurrency.map(Value::from)),
        ("budget_usd_daily", l.budget_daily.map(Value::from)),
        ("budget_usd_monthly", l.budget_monthly.map(Value::from)),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            map.insert(k.to_owned(), v);
        }
    }
    Value::Object(map)
}

/// Adds `key: value` to a JSON object when `value` is `Some`.
fn put(body: &mut Value, key: &str, value: Option<Value>) {
    if let (Some(v), Value::Object(map)) = (value, body) {
        map.insert(key.to_owned(), v);
    }
}

fn tenant_path(id: &str) -> String {
    format!("/admin/v1/tenants/{}", encode(id))
}

fn key_path(id: &str, action: &str) -> String {
    format!("/admin/v1/keys/{}{action}", encode(id))
}

fn show(json: bool, value: &Value, human: impl FnOnce(&Value) -> String) -> Outcome {
    if json {
        Outcome::ok(serde_json::to_string_pretty(value).unwrap_or_default())
    } else {
        Outcome::ok(human(value))
    }
}

fn tenant_view(v: &Value) -> String {
    output::record(v, &output::TENANT_FIELDS)
}

fn key_view(v: &Value) -> String {
    let table = output::record(v, &output::KEY_FIELDS);
    match v["secret"].as_str() {
        Some(secret) => format!("{table}\nsecret (shown once, store it now): {secret}"),
        None => table,
    }
}

pub async fn tenants(client: &Client, json: bool, cmd: &TenantsCmd) -> Result<Outcome, CtlError> {
    let value = match cmd {
        TenantsCmd::Create {
            id,
            name,
            models,
            regions,
            networks,
            threat_intel_opt_out,
            limits: l,
        } => {
            let mut body = json!({ "id": id });
            put(
                &mut body,
                "allowed_networks",
                networks.clone().map(Value::from),
            );
            if *threat_intel_opt_out {
                put(&mut body, "threat_intel_opt_out", Some(Value::Bool(true)));
            }
            put(&mut body, "name", name.clone().map(Value::from));
            put(&mut body, "allowed_models", models.clone().map(Value::from));
            put(
                &mut body,
                "allowed_regions",
                regions.clone().map(Value::from),
            );
            put(&mut body, "limits", (!l.is_empty()).then(|| limits(l)));
            client
                .call(Method::POST, "/admin/v1/tenants", Some(&body))
                .await?
        }
        TenantsCmd::List => {
            let v = client.call(Method::GET, "/admin/v1/tenants", None).await?;
            return Ok(show(json, &v, |v| output::list(v, &output::TENANT_COLUMNS)));
        }
        TenantsCmd::Show { id } => client.call(Method::GET, &tenant_path(id), None).await?,
        TenantsCmd::Update {
            id,
            name,
            models,
            regions,
            networks,
            any_network,
            threat_intel_opt_out,
            limits: l,
        } => {
            let mut body = json!({});
            if *any_network {
                body["allowed_networks"] = Value::Null;
            }
            put(
                &mut body,
                "allowed_networks",
                networks.clone().map(Value::from),
            );
            put(
                &mut body,
                "threat_intel_opt_out",
                threat_intel_opt_out.map(Value::Bool),
            );
            put(&mut body, "name", name.clone().map(Value::from));
            put(&mut body, "allowed_models", models.clone().map(Value::from));
            put(
                &mut body,
                "allowed_regions",
                regions.clone().map(Value::from),
            );
            put(&mut body, "limits", (!l.is_empty()).then(|| limits(l)));
            client
                .call(Method::PATCH, &tenant_path(id), Some(&body))
                .await?
        }
        TenantsCmd::Disable { id } | TenantsCmd::Enable { id } => {
            let enabled = matches!(cmd, TenantsCmd::Enable { .. });
            let body = json!({ "enabled": enabled });
            client
                .call(Method::PATCH, &tenant_path(id), Some(&body))
                .await?
        }
        TenantsCmd::Delete { id } => {
            let v = client.call(Method::DELETE, &tenant_path(id), None).await?;
            return Ok(show(json, &v, |_| {
                format!("tenant '{id}' deleted (with its keys)")
            }));
        }
    };
    Ok(show(json, &value, tenant_view))
}

pub async fn keys(client: &Client, json: bool, cmd: &KeysCmd) -> Result<Outcome, CtlError> {
    let value = match cmd {
        KeysCmd::Create {
            tenant,
            name,
            models,
            networks,
            roles,
            expires_in_days,
            limits: l,
        } => {
            let mut body = json!({ "tenant": tenant, "name": name });
            put(
                &mut body,
                "allowed_networks",
                networks.clone().map(Value::from),
            );
            put(&mut body, "allowed_models", models.clone().map(Value::from));
            put(&mut body, "roles", roles.clone().map(Value::from));
            put(
                &mut body,
                "expires_in_days",
                expires_in_days.map(Value::from),
            );
            put(&mut body, "limits", (!l.is_empty()).then(|| limits(l)));
            client
                .call(Method::POST, "/admin/v1/keys", Some(&body))
                .await?
        }
        KeysCmd::List { tenant } => {
            let path = format!("/admin/v1/keys{}", query(&[("tenant", tenant.clone())]));
            let v = client.call(Method::GET, &path, None).await?;
            return Ok(show(json, &v, |v| output::list(v, &output::KEY_COLUMNS)));
        }
        KeysCmd::Show { id } => client.call(Method::GET, &key_path(id, ""), None).await?,
        KeysCmd::Rotate { id } => {
            client
                .call(Method::POST, &key_path(id, "/rotate"), None)
                .await?
        }
        KeysCmd::Revoke { id } => {
            client
                .call(Method::POST, &key_path(id, "/revoke"), None)
                .await?
        }
        KeysCmd::Networks { id, allow, any } => {
            let networks = if *any {
                Value::Null
            } else {
                allow.clone().map_or(Value::Null, Value::from)
            };
            let body = json!({ "allowed_networks": networks });
            client
                .call(Method::PATCH, &key_path(id, ""), Some(&body))
                .await?
        }
        KeysCmd::Resume { id } => {
            client
                .call(Method::POST, &key_path(id, "/resume"), None)
                .await?
        }
        KeysCmd::Disable { id } | KeysCmd::Enable { id } => {
            let body = json!({ "enabled": matches!(cmd, KeysCmd::Enable { .. }) });
            client
                .call(Method::PATCH, &key_path(id, ""), Some(&body))
                .await?
        }
    };
    Ok(show(json, &value, key_view))
}

pub async fn usage(client: &Client, json: bool, args: &UsageArgs) -> Result<Outcome, CtlError> {
    let group_by: Vec<&'static str> = args.group_by.iter().map(|g| g.as_str()).collect();
    let path = format!(
        "/admin/v1/usage{}",
        query(&[
            ("tenant", args.tenant.clone()),
            ("key", args.key.clone()),
            ("model", args.model.clone()),
            ("from", args.from.clone()),
            ("to", args.to.clone()),
            (
                "group_by",
                (!group_by.is_empty()).then(|| group_by.join(","))
            ),
        ])
    );
    let value = client.call(Method::GET, &path, None).await?;
    let columns = output::usage_columns(&group_by);
    if args.csv {
        return Ok(Outcome::ok(output::csv(&value, &columns)));
    }
    Ok(show(json, &value, |v| output::list(v, &columns)))
}

/// `health`: GET `/health` or `/ready`; a non-200 answer is an error (exit 1), no answer exit 3.
pub async fn health(client: &Client, json: bool, args: &HealthArgs) -> Result<Outcome, CtlError> {
    let path = if args.ready { "/ready" } else { "/health" };
    let value = client.call(Method::GET, path, None).await?;
    let status = value["status"].as_str().unwrap_or("ok").to_owned();
    Ok(show(json, &value, |_| status))
}

pub async fn audit(client: &Client, json: bool, args: &AuditArgs) -> Result<Outcome, CtlError> {
    if let Some(AuditCmd::Verify) = args.command {
        let v = client
            .call(Method::GET, "/admin/v1/audit/verify", None)
            .await?;
        let intact = v["intact"].as_bool().unwrap_or(false);
        let mut outcome = show(json, &v, |v| {
            if intact {
                format!(
                    "audit chain intact: {} record(s) checked",
                    output::cell(&v["checked"])
                )
            } else {
                format!(
                    "audit chain BROKEN at record {} ({} checked): the log was altered",
                    output::cell(&v["first_broken_seq"]),
                    output::cell(&v["checked"])
                )
            }
        });
        outcome.failed = !intact;
        return Ok(outcome);
    }
    let f = &args.filters;
    let path = format!(
        "/admin/v1/audit{}",
        query(&[
            ("tenant", f.tenant.clone()),
            ("actor", f.actor.clone()),
            ("action", f.action.clone()),
            ("from", f.from.clone()),
            ("to", f.to.clone()),
            ("after", f.after.map(|a| a.to_string())),
            ("limit", Some(f.limit.to_string())),
            ("order", f.newest.then(|| "newest".to_owned())),
        ])
    );
    let value = client.call(Method::GET, &path, None).await?;
    Ok(show(json, &value, |v| {
        let table = output::list(v, &output::AUDIT_COLUMNS);
        match v["next_after"].as_u64() {
            Some(next) => format!("{table}\nmore: --after {next}"),
            None => table,
        }
    }))
}

/// `anomalies list`: GET `/admin/v1/anomalies`.
pub async fn anomalies(
    client: &Client,
    json: bool,
    cmd: &AnomaliesCmd,
) -> Result<Outcome, CtlError> {
    let AnomaliesCmd::List { tenant, limit } = cmd;
    let path = format!(
        "/admin/v1/anomalies{}",
        query(&[
            ("tenant", tenant.clone()),
            ("limit", Some(limit.to_string())),
        ])
    );
    let value = client.call(Method::GET, &path, None).await?;
    Ok(show(json, &value, |v| {
        output::list(v, &output::ANOMALY_COLUMNS)
    }))
}
