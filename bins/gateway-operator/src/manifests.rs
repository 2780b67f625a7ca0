//! The objects an `LlmGateway` owns, built from its spec: a ConfigMap with `gateway.toml`,
//! a Deployment (the same pod as the kustomize base: probes, preStop drain, non-root,
//! read-only root, no capabilities) and a Service. Pure functions; `reconcile::gateway`
//! applies them.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, HTTPGetAction, Lifecycle, LifecycleHandler, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecretKeySelector,
    SecurityContext, Service, ServicePort, ServiceSpec, SleepAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::{Resource, ResourceExt};
use sha2::{Digest, Sha256};

use crate::context::GATEWAY_PORT;
use crate::crd::{LlmGateway, SecretKeyRef};

/// The annotation on the pod template that rolls the pods when `gateway.toml` changes.
pub const CONFIG_HASH: &str = "gateway.llm-secure-gateway.io/config-hash";
/// Seconds of preStop sleep before SIGTERM (endpoints removal propagates).
const PRE_STOP_SECONDS: i64 = 5;
/// preStop + the gateway's `shutdown_grace_secs` (30) + a margin.
const TERMINATION_GRACE_SECONDS: i64 = 45;

/// The ConfigMap's name.
pub fn config_map_name(gw: &LlmGateway) -> String {
    format!("{}-config", gw.name_any())
}

/// The first 16 hex digits of SHA-256 of the configuration.
pub fn config_hash(config: &str) -> String {
    let digest = Sha256::digest(config.as_bytes());
    hex::encode(&digest[..8])
}

/// The labels of every owned object; the selector uses the first two.
pub fn labels(gw: &LlmGateway) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/name".to_owned(),
            "llm-gateway".to_owned(),
        ),
        ("app.kubernetes.io/instance".to_owned(), gw.name_any()),
        (
            "app.kubernetes.io/managed-by".to_owned(),
            crate::MANAGER.to_owned(),
        ),
    ])
}

fn selector(gw: &LlmGateway) -> BTreeMap<String, String> {
    labels(gw).into_iter().take(2).collect()
}

fn meta(gw: &LlmGateway, name: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: gw.namespace(),
        labels: Some(labels(gw)),
        // Garbage collected with the LlmGateway.
        owner_references: gw.controller_owner_ref(&()).map(|o| vec![o]),
        ..ObjectMeta::default()
    }
}

pub fn config_map(gw: &LlmGateway) -> ConfigMap {
    ConfigMap {
        metadata: meta(gw, config_map_name(gw)),
        data: Some(BTreeMap::from([(
            "gateway.toml".to_owned(),
            gw.spec.config.clone(),
        )])),
        ..ConfigMap::default()
    }
}

pub fn service(gw: &LlmGateway) -> Service {
    Service {
        metadata: meta(gw, gw.name_any()),
        spec: Some(ServiceSpec {
            selector: Some(selector(gw)),
            ports: Some(vec![ServicePort {
                name: Some("http".to_owned()),
                port: GATEWAY_PORT,
                target_port: Some(IntOrString::String("http".to_owned())),
                protocol: Some("TCP".to_owned()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn secret_env(env: &str, r: &SecretKeyRef) -> EnvVar {
    EnvVar {
        name: env.to_owned(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: r.name.clone(),
                key: r.key.clone(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn http_probe(path: &str, period: i32, timeout: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String("http".to_owned()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

fn resources(gw: &LlmGateway) -> ResourceRequirements {
    let r = gw.spec.resources.clone().unwrap_or_default();
    let q = |v: Option<String>, default: &str| Quantity(v.unwrap_or_else(|| default.to_owned()));
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_owned(), q(r.cpu_request, "500m")),
            ("memory".to_owned(), q(r.memory_request, "128Mi")),
        ])),
        limits: Some(BTreeMap::from([(
            "memory".to_owned(),
            q(r.memory_limit, "512Mi"),
        )])),
        ..ResourceRequirements::default()
    }
}

fn container(gw: &LlmGateway) -> Container {
    let mut env = vec![secret_env(
        "GATEWAY_ADMIN_TOKEN",
        &gw.spec.admin_token_secret,
    )];
    env.extend(
        gw.spec
            .providers
            .iter()
            .map(|p| secret_env(&p.env, &p.secret_key_ref)),
    );
    let mount = |name: &str, path: &str, read_only: bool| VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: Some(read_only),
        ..VolumeMount::default()
    };
    Container {
        name: "gateway".to_owned(),
        image: Some(gw.spec.image.clone()),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        args: Some(vec![
            "--config".to_owned(),
            "/etc/llm-gateway/gateway.toml".to_owned(),
        ]),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_owned()),
            container_port: GATEWAY_PORT,
            protocol: Some("TCP".to_owned()),
            ..ContainerPort::default()
        }]),
        env: Some(env),
        liveness_probe: Some(http_probe("/health", 10, 2, 3)),
        readiness_probe: Some(http_probe("/ready", 5, 3, 2)),
        startup_probe: Some(http_probe("/health", 2, 2, 30)),
        lifecycle: Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: PRE_STOP_SECONDS,
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        }),
        resources: Some(resources(gw)),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                ..Capabilities::default()
            }),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(vec![
            mount("config", "/etc/llm-gateway", true),
            mount("data", "/data", false),
            mount("tmp", "/tmp", false),
        ]),
        ..Container::default()
    }
}

fn empty_dir(name: &str, size: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(Quantity(size.to_owned())),
            ..EmptyDirVolumeSource::default()
        }),
        ..Volume::default()
    }
}

pub fn deployment(gw: &LlmGateway) -> Deployment {
    let mut template_labels = labels(gw);
    template_labels.insert(
        "app.kubernetes.io/component".to_owned(),
        "gateway".to_owned(),
    );
    Deployment {
        metadata: meta(gw, gw.name_any()),
        spec: Some(DeploymentSpec {
            replicas: Some(gw.spec.replicas),
            revision_history_limit: Some(5),
            selector: LabelSelector {
                match_labels: Some(selector(gw)),
                ..LabelSelector::default()
            },
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".to_owned()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_unavailable: Some(IntOrString::Int(0)),
                    max_surge: Some(IntOrString::Int(1)),
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(template_labels),
                    annotations: Some(BTreeMap::from([(
                        CONFIG_HASH.to_owned(),
                        config_hash(&gw.spec.config),
                    )])),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    automount_service_account_token: Some(false),
                    termination_grace_period_seconds: Some(TERMINATION_GRACE_SECONDS),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(65532),
                        run_as_group: Some(65532),
                        fs_group: Some(65532),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".to_owned(),
                            ..SeccompProfile::default()
                        }),
                        ..PodSecurityContext::default()
                    }),
                    containers: vec![container(gw)],
                    volumes: Some(vec![
                        Volume {
                            name: "config".to_owned(),
                            config_map: Some(ConfigMapVolumeSource {
                                name: config_map_name(gw),
                                ..ConfigMapVolumeSource::default()
                            }),
                            ..Volume::default()
                        },
                        empty_dir("data", "1Gi"),
                        empty_dir("tmp", "64Mi"),
                    ]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}
