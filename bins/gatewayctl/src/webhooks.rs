//! `gatewayctl webhooks ...`: a tenant's webhook endpoints over `/admin/v1/webhooks`
//! (docs/webhooks.md): create (the signing secret is printed once), list, show, change,
//! delete, rotate the secret, the delivery log, and manual redelivery.

use clap::Subcommand;
use http::Method;
use serde_json::{Value, json};

use crate::client::{Client, CtlError, encode, query};
use crate::commands::Outcome;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum WebhooksCmd {
    /// Register an endpoint; its signing secret is printed once.
    Create {
        #[arg(long)]
        tenant: String,
        /// The endpoint's URL. (`--url` is gatewayctl's own global option, the gateway's
        /// address: a second `--url` here would be taken for it.)
        #[arg(long = "endpoint-url", id = "endpoint_url")]
        url: String,
        /// Event types, comma-separated (batch.completed, key.created, limit.exceeded, ...).
        /// Without it the endpoint subscribes to none: it receives only the callbacks of
        /// asynchronous calls that name its URL (docs/async.md).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List endpoints (never their secrets).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Show one endpoint.
    Show { id: String },
    /// Change an endpoint's URL, events, description or state.
    Update {
        id: String,
        /// The endpoint's new URL.
        #[arg(long = "endpoint-url", id = "endpoint_url")]
        url: Option<String>,
        /// Event types, comma-separated; `--events ''` subscribes to none.
        #[arg(long, value_delimiter = ',')]
        events: Option<Vec<String>>,
        #[arg(long)]
        description: Option<String>,
        /// `true` or `false` (pauses deliveries).
        #[arg(long)]
        enabled: Option<bool>,
    },
    /// Delete an endpoint and its deliveries.
    Delete { id: String },
    /// A new signing secret (printed once); the old one signs too for the overlap.
    RotateSecret { id: String },
    /// The endpoint's deliveries, newest first, with their attempts.
    Deliveries {
        id: String,
        #[arg(long)]
        before: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Queue a delivery again at once (a dead one included).
    Redeliver { delivery_id: String },
}

const FIELDS: [&str; 8] = [
    "id",
    "tenant",
    "url",
    "events",
    "enabled",
    "description",
    "previous_secret_expires_at",
    "created_at",
];
/// (header, field) pairs, as `output::list` takes them.
const COLUMNS: [(&str, &str); 5] = [
    ("ID", "id"),
    ("TENANT", "tenant"),
    ("URL", "url"),
    ("EVENTS", "events"),
    ("ENABLED", "enabled"),
];
const DELIVERY_COLUMNS: [(&str, &str); 6] = [
    ("ID", "id"),
    ("EVENT", "event_type"),
    ("STATUS", "status"),
    ("ATTEMPTS", "attempts"),
    ("LAST CODE", "last_status_code"),
    ("NEXT ATTEMPT", "next_attempt_at"),
];

fn path(id: &str, action: &str) -> String {
    format!("/admin/v1/webhooks/{}{action}", encode(id))
}

fn endpoint_view(v: &Value) -> String {
    let table = output::record(v, &FIELDS);
    match v["secret"].as_str() {
        Some(secret) => format!("{table}\nsigning secret (shown once, store it now): {secret}"),
        None => table,
    }
}

fn shown(json: bool, v: &Value, human: impl FnOnce(&Value) -> String) -> Outcome {
    Outcome::ok(if json {
        serde_json::to_string_pretty(v).unwrap_or_default()
    } else {
        human(v)
    })
}

/// The `events` of a request body: the types given, blanks left out (`--events ''` is none).
fn event_list(events: &[String]) -> Value {
    events
        .iter()
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
        .map(Value::from)
        .collect()
}

pub async fn run(client: &Client, json: bool, cmd: &WebhooksCmd) -> Result<Outcome, CtlError> {
    let value = match cmd {
        WebhooksCmd::Create {
            tenant,
            url,
            events,
            description,
        } => {
            let mut body = json!({ "tenant": tenant, "url": url, "events": event_list(events) });
            if let (Some(d), Value::Object(map)) = (description, &mut body) {
                map.insert("description".to_owned(), Value::from(d.as_str()));
            }
            client
                .call(Method::POST, "/admin/v1/webhooks", Some(&body))
                .await?
        }
        WebhooksCmd::List { tenant } => {
            let p = format!("/admin/v1/webhooks{}", query(&[("tenant", tenant.clone())]));
            let v = client.call(Method::GET, &p, None).await?;
            return Ok(shown(json, &v, |v| output::list(v, &COLUMNS)));
        }
        WebhooksCmd::Show { id } => client.call(Method::GET, &path(id, ""), None).await?,
        WebhooksCmd::Update {
            id,
            url,
            events,
            description,
            enabled,
        } => {
            let mut body = serde_json::Map::new();
            let fields = [
                ("url", url.clone().map(Value::from)),
                ("events", events.as_deref().map(event_list)),
                ("description", description.clone().map(Value::from)),
                ("enabled", enabled.map(Value::from)),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    body.insert(k.to_owned(), v);
                }
            }
            if body.is_empty() {
                return Err(CtlError::Usage(
                    "give at least one of --endpoint-url, --events, --description, --enabled"
                        .to_owned(),
                ));
            }
            let body = Value::Object(body);
            client
                .call(Method::PATCH, &path(id, ""), Some(&body))
                .await?
        }
        WebhooksCmd::Delete { id } => {
            let v = client.call(Method::DELETE, &path(id, ""), None).await?;
            return Ok(shown(json, &v, |_| format!("deleted webhook {id}")));
        }
        WebhooksCmd::RotateSecret { id } => {
            client
                .call(Method::POST, &path(id, "/rotate-secret"), None)
                .await?
        }
        WebhooksCmd::Deliveries { id, before, limit } => {
            let q = query(&[
                ("before", before.clone()),
                ("limit", limit.map(|l| l.to_string())),
            ]);
            let p = format!("{}{q}", path(id, "/deliveries"));
            let v = client.call(Method::GET, &p, None).await?;
            return Ok(shown(json, &v, |v| output::list(v, &DELIVERY_COLUMNS)));
        }
        WebhooksCmd::Redeliver { delivery_id } => {
            let p = format!(
                "/admin/v1/webhooks/deliveries/{}/redeliver",
                encode(delivery_id)
            );
            let v = client.call(Method::POST, &p, None).await?;
            return Ok(shown(json, &v, |v| {
                format!(
                    "delivery {} queued ({} attempts so far)",
                    v["id"].as_str().unwrap_or_default(),
                    v["attempts"]
                )
            }));
        }
    };
    Ok(shown(json, &value, endpoint_view))
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::{WebhooksCmd, event_list};
    use crate::cli::{Cli, Command};

    fn create(args: &[&str]) -> WebhooksCmd {
        let base = [
            "gatewayctl",
            "--url",
            "http://gw.example:8080",
            "webhooks",
            "create",
            "--tenant",
            "acme",
            "--endpoint-url",
            "https://h.example/x",
        ];
        let cli = Cli::try_parse_from(base.iter().chain(args)).unwrap();
        // The endpoint's URL never replaces the gateway's address.
        assert_eq!(cli.url, "http://gw.example:8080");
        match cli.command {
            Command::Webhooks(cmd) => cmd,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn create_needs_no_events_and_sends_an_empty_list() {
        match create(&[]) {
            WebhooksCmd::Create { events, url, .. } => {
                assert_eq!(url, "https://h.example/x");
                assert_eq!(event_list(&events), json!([]));
            }
            other => panic!("{other:?}"),
        }
        match create(&["--events", "key.created,batch.completed"]) {
            WebhooksCmd::Create { events, .. } => {
                assert_eq!(
                    event_list(&events),
                    json!(["key.created", "batch.completed"])
                );
            }
            other => panic!("{other:?}"),
        }
        // `--events ''` (update's way back to none) is an empty list, not one blank type.
        assert_eq!(event_list(&[String::new()]), json!([]));
    }
}
