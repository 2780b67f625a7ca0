//! Deployments and model groups: what the router is configured with.

use std::sync::Arc;

use gateway_core::Provider;
use gateway_core::phases::route::ServedBy;

use super::health::Health;
use super::policy::{RoutingPolicy, UnsupportedParams};

/// One way to serve a model group.
#[derive(Clone)]
pub struct Deployment {
    pub provider: Arc<dyn Provider>,
    /// The provider's name, shared so that naming it per request costs no allocation.
    pub provider_name: Arc<str>,
    pub upstream_model: Arc<str>,
    pub weight: u32,
    /// Lower is tried first.
    pub priority: u32,
    pub region: Option<Arc<str>>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("provider", &self.provider.name())
            .field("upstream_model", &self.upstream_model)
            .field("weight", &self.weight)
            .field("priority", &self.priority)
            .field("region", &self.region)
            .finish()
    }
}

impl Deployment {
    /// Weight 1, priority 0, no region.
    pub fn new(provider: Arc<dyn Provider>, upstream_model: &str) -> Self {
        Deployment {
            provider_name: Arc::from(provider.name()),
            provider,
            upstream_model: Arc::from(upstream_model),
            weight: 1,
            priority: 0,
            region: None,
        }
    }

    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    pub fn with_priority(mut self, priority: u32) -> Self {
        self.priority = priority;
        self
    }

    pub fn with_region(mut self, region: &str) -> Self {
        self.region = Some(Arc::from(region));
        self
    }

    pub(super) fn served_by(&self, attempts: u32, path: Vec<Arc<str>>) -> ServedBy {
        ServedBy {
            route_reason: None,
            task: None,
            dropped_params: Vec::new(),
            provider: self.provider_name.clone(),
            path,
            upstream_model: self.upstream_model.clone(),
            region: self.region.clone(),
            attempts,
        }
    }
}

/// A public model name, the deployments that can serve it and how to choose among them.
#[derive(Debug, Clone, Default)]
pub struct ModelGroup {
    pub name: String,
    pub deployments: Vec<Deployment>,
    pub routing: RoutingPolicy,
    pub unsupported_params: UnsupportedParams,
}

impl ModelGroup {
    /// A group with the default [`RoutingPolicy`].
    pub fn new(name: impl Into<String>, deployments: Vec<Deployment>) -> Self {
        ModelGroup {
            name: name.into(),
            deployments,
            routing: RoutingPolicy::default(),
            unsupported_params: UnsupportedParams::default(),
        }
    }

    pub fn with_unsupported_params(mut self, policy: UnsupportedParams) -> Self {
        self.unsupported_params = policy;
        self
    }

    pub fn with_routing(mut self, routing: RoutingPolicy) -> Self {
        self.routing = routing;
        self
    }
}

#[derive(Debug)]
pub(crate) struct Slot {
    pub deployment: Deployment,
    pub health: Arc<Health>,
}
