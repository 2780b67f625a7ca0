//! [`Inbound`]: what the edge learned of one request on its way in — its id, route, client
//! address, the headers the custom policy reads, and, once a handler authenticated it, the
//! caller. Handlers build the pipeline's [`RequestContext`] from it; the edge names the caller
//! of a refused request from it (a request is authenticated once, never again for the audit).
//!
//! Authentication and authorisation are one step: [`Inbound::authenticate_token`] refuses
//! (403, in the route's error shape, audited by the edge) a caller whose roles do not grant
//! the permission the route table names for the route ([`super::routes::Handler::access`]),
//! whatever its credential (API key or JWT) and whichever host (TCP server or serverless
//! function) carried the request.

use std::net::IpAddr;
use std::sync::Arc;

use http::{HeaderMap, Request};

use gateway_auth::Permission;
use gateway_core::client_networks::NetworkScope;
use gateway_core::context::CapturedHeaders;
use gateway_core::{DeniedBy, Endpoint, GatewayError, Principal, RequestContext, TenantId};
use gateway_policy::threat_intel::FeedAction;

use super::extract_token;
use crate::state::AppState;

pub struct Inbound {
    pub request_id: String,
    /// The route's fixed label ([`super::routes::label`]).
    pub route: &'static str,
    pub client_ip: Option<IpAddr>,
    /// The headers `[policies] headers` names, when the request has any.
    pub headers: Option<CapturedHeaders>,
    /// Tenant and subject of the authenticated caller.
    pub caller: Option<(TenantId, Arc<str>)>,
    /// What the caller must be granted on its own tenant ([`super::routes::Lookup::permission`]).
    pub permission: Permission,
    /// A hash of the credential a failed authentication presented, for anomaly detection's
    /// count of distinct guesses ([`crate::anomaly::Anomalies::credential_hash`]).
    pub presented: Option<u64>,
}

impl Inbound {
    pub fn new<B>(
        state: &AppState,
        req: &Request<B>,
        request_id: String,
        route: &'static str,
        permission: Permission,
    ) -> Self {
        Inbound {
            request_id,
            route,
            client_ip: state
                .trusted_proxies
                .client_address(crate::server::client_ip(req), req.headers()),
            headers: captured_headers(state, req.headers()),
            caller: None,
            permission,
            presented: None,
        }
    }

    /// Authenticates the request's credential through the pipeline and remembers the caller.
    pub async fn authenticate(
        &mut self,
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Principal, GatewayError> {
        self.authenticate_token(state, extract_token(headers)).await
    }

    /// Authenticates a credential a dialect found (a query parameter, for Gemini's `?key=`)
    /// through the pipeline, like any key, remembers the caller, and refuses it (403) unless
    /// its roles grant the route's permission on its own tenant.
    pub async fn authenticate_token(
        &mut self,
        state: &AppState,
        token: Option<&str>,
    ) -> Result<Principal, GatewayError> {
        let principal = match state.gateway.authenticate(token).await {
            Ok(principal) => principal,
            Err(e) => {
                self.failed(state, token);
                return Err(e);
            }
        };
        self.identified(&principal);
        self.admit_address(&principal)?;
        self.screen(state, &principal, token)?;
        gateway_auth::authorize(&principal, self.permission, Some(&principal.tenant))?;
        Ok(principal)
    }

    /// The threat-intelligence checks of the edge, unless the caller's tenant opted out: a
    /// client address on an IP blocklist, or a credential whose SHA-256 is on a leaked-key
    /// feed, is refused (403) by a blocking feed and let through by a flagging one; either
    /// match is counted (`gateway_threat_intel_matches_total{kind,feed}`), a refusal audited
    /// by the edge (`authz.denied`, `denied_by: threat_intel`, the feed).
    pub fn screen(
        &self,
        state: &AppState,
        principal: &Principal,
        token: Option<&str>,
    ) -> Result<(), GatewayError> {
        let intel = state.threat_intel.intel();
        if principal.threat_intel_opt_out || intel.is_empty() {
            return Ok(());
        }
        let metrics = state.telemetry.metrics().threat_intel();
        if let Some(found) = self.client_ip.and_then(|ip| intel.blocked_address(ip)) {
            metrics.matched("ip_blocklist", &found.feed);
            if found.action == FeedAction::Block {
                return Err(GatewayError::forbidden(
                    DeniedBy::ThreatIntel {
                        feed: found.feed.to_string(),
                    },
                    "Requests from this client address are refused.",
                ));
            }
        }
        if let Some(found) = token.and_then(|t| intel.leaked_secret(t)) {
            metrics.matched("leaked_keys", &found.feed);
            if found.action == FeedAction::Block {
                return Err(GatewayError::forbidden(
                    DeniedBy::ThreatIntel {
                        feed: found.feed.to_string(),
                    },
                    "This credential is known to have leaked and is refused; ask for a new one.",
                ));
            }
        }
        Ok(())
    }

    /// 403 when the client address is outside the networks the caller's key or tenant may
    /// call from (an unknown address is outside any list). The edge audits the refusal with
    /// the caller and counts it (`gateway_auth_failures_total{reason="client_address"}`).
    pub fn admit_address(&self, principal: &Principal) -> Result<(), GatewayError> {
        let Some(networks) = &principal.client_networks else {
            return Ok(());
        };
        networks.admits(self.client_ip).map_err(|scope| {
            GatewayError::forbidden(
                DeniedBy::ClientAddress,
                format!(
                    "This {} may not be used from this client address.",
                    match scope {
                        NetworkScope::Key => "key",
                        NetworkScope::Tenant => "tenant's credentials",
                    }
                ),
            )
        })
    }

    /// Remember what a failed authentication presented (hashed), for the edge's report of
    /// the failure to anomaly detection.
    pub fn failed(&mut self, state: &AppState, token: Option<&str>) {
        if state.anomalies.is_enabled() {
            self.presented = token.map(|t| state.anomalies.credential_hash(t));
        }
    }

    /// Remember who the caller is (for handlers that authenticate by other means).
    pub fn identified(&mut self, principal: &Principal) {
        self.caller = Some((principal.tenant.clone(), principal.subject.clone()));
    }

    /// The pipeline's context of a call by `principal`, with what the operator set for its
    /// tenant: whether its prompts and completions are logged.
    pub fn context(
        &self,
        state: &AppState,
        principal: Principal,
        endpoint: Endpoint,
    ) -> RequestContext {
        let mut ctx = RequestContext::new(self.request_id.as_str(), principal, endpoint);
        ctx.passthrough = state.is_passthrough(&ctx.principal.tenant);
        ctx.log_content =
            !ctx.passthrough && state.telemetry.logs_prompts_for(&ctx.principal.tenant);
        ctx.client_ip = self.client_ip;
        ctx.headers = self.headers.clone();
        ctx
    }
}

/// The request headers the custom policy names, if there is one.
fn captured_headers(state: &AppState, headers: &HeaderMap) -> Option<CapturedHeaders> {
    state.policy.as_ref()?.capture_headers(
        headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
    )
}
