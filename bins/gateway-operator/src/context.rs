//! What every reconciliation shares: the Kubernetes client, how often tenants and keys are
//! compared with the gateway, and how a gateway reference becomes an admin API client.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::admin::AdminClient;
use crate::crd::{GatewayRef, LlmGateway, SecretKeyRef};
use crate::error::Error;

/// The port of the gateway's Service (the container's `http` port).
pub const GATEWAY_PORT: i32 = 8080;

/// Shared by every reconciliation.
#[derive(Clone)]
pub struct Context {
    pub client: Client,
    /// How often a tenant or key is compared with the gateway (there is no watch on the
    /// gateway's side: out-of-band changes are found by this poll).
    pub resync: Duration,
    /// The cluster DNS suffix of Services (`svc.cluster.local` by default; `svc` resolves
    /// through the pod's search path too).
    pub service_domain: String,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("resync", &self.resync)
            .finish_non_exhaustive()
    }
}

/// Where a tenant's or key's gateway is, resolved.
pub enum Target {
    /// The admin API to call.
    Reachable(Box<AdminClient>),
    /// The referenced LlmGateway does not exist (any more) or is being deleted: nothing to
    /// call, and nothing to clean up in it.
    Gone(String),
}

impl Context {
    pub fn new(client: Client) -> Context {
        Context {
            client,
            resync: Duration::from_secs(60),
            service_domain: "svc.cluster.local".to_owned(),
        }
    }

    /// The admin API of the gateway `gw` points at, with its token read from the Secret.
    pub async fn target(&self, namespace: &str, gw: &GatewayRef) -> Result<Target, Error> {
        match (&gw.name, &gw.url) {
            (Some(name), None) => {
                let api: Api<LlmGateway> = Api::namespaced(self.client.clone(), namespace);
                let Some(gateway) = api.get_opt(name).await? else {
                    return Ok(Target::Gone(format!("LlmGateway '{name}' does not exist")));
                };
                if gateway.metadata.deletion_timestamp.is_some() {
                    return Ok(Target::Gone(format!(
                        "LlmGateway '{name}' is being deleted"
                    )));
                }
                let token = self
                    .secret_value(namespace, &gateway.spec.admin_token_secret)
                    .await?;
                let url = format!(
                    "http://{name}.{namespace}.{}:{GATEWAY_PORT}",
                    self.service_domain
                );
                Ok(Target::Reachable(Box::new(AdminClient::new(&url, &token))))
            }
            (None, Some(url)) => {
                let secret = gw.admin_token_secret.as_ref().ok_or_else(|| {
                    Error::Invalid("gateway.url needs gateway.adminTokenSecret".to_owned())
                })?;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(Error::Invalid(format!(
                        "gateway.url '{url}' is not an http:// or https:// URL"
                    )));
                }
                let token = self.secret_value(namespace, secret).await?;
                Ok(Target::Reachable(Box::new(AdminClient::new(url, &token))))
            }
            _ => Err(Error::Invalid(
                "gateway: give exactly one of 'name' (an LlmGateway) and 'url'".to_owned(),
            )),
        }
    }

    /// One value of a Secret in `namespace`, as text.
    pub async fn secret_value(&self, namespace: &str, r: &SecretKeyRef) -> Result<String, Error> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let secret = api
            .get_opt(&r.name)
            .await?
            .ok_or_else(|| Error::Invalid(format!("Secret '{}' not found", r.name)))?;
        let value = secret
            .data
            .as_ref()
            .and_then(|d| d.get(&r.key))
            .map(|b| b.0.clone())
            .or_else(|| {
                secret
                    .string_data
                    .as_ref()
                    .and_then(|d| d.get(&r.key))
                    .map(|s| s.clone().into_bytes())
            })
            .ok_or_else(|| Error::Invalid(format!("Secret '{}' has no key '{}'", r.name, r.key)))?;
        String::from_utf8(value)
            .map(|s| s.trim().to_owned())
            .map_err(|_| Error::Invalid(format!("Secret '{}' key '{}' is not text", r.name, r.key)))
    }
}
