"""deploy/kubernetes (kustomize) and deploy/helm/llm-gateway, rendered by the real kubectl
and helm and validated by kubernetes-validate; the chart and the kustomize output are kept in
step (same pod spec, probes, security, budget, autoscaling, network policy); every rendered
gateway.toml passes `llm-gateway --check-config`; the PrometheusRule carries alerts.yml."""

import copy
import tomllib
import tempfile
from pathlib import Path

import yaml

from checks import DEPLOY, check, run

KUBERNETES_VERSION = "1.33.0"
OVERLAYS = DEPLOY / "kubernetes" / "overlays"
CHART = DEPLOY / "helm" / "llm-gateway"
# Values that turn every optional template on, and a second set that turns them off.
HELM_VARIANTS = {
    "defaults": [],
    "everything": ["--set", "postgresql.enabled=true", "--set", "redis.enabled=true",
                   "--set", "env.RUST_LOG=info", "--set", "imagePullSecrets[0].name=registry"],
    "minimal": ["--set", "autoscaling.enabled=false", "--set", "podDisruptionBudget.enabled=false",
                "--set", "networkPolicy.enabled=false", "--set", "serviceMonitor.enabled=false",
                "--set", "prometheusRule.enabled=false", "--set", "autoscaling.inFlightPerPod=0"],
}
# Kinds of the Prometheus Operator: not in the Kubernetes schemas; checked by shape below.
OPERATOR_KINDS = {"ServiceMonitor", "PrometheusRule"}
CONFIG_ENV = {
    "GATEWAY_ADMIN_TOKEN": "admin-token-for-validation",
    "GATEWAY_KEY_PEPPER": "pepper-for-validation",
    "GATEWAY_DATABASE_URL": "postgres://gateway:pw@postgres:5432/gateway",
    "GATEWAY_REDIS_URL": "redis://redis:6379",
    "OPENAI_API_KEY": "sk-validation",
}


def kustomize(ctx, overlay: str) -> list[dict]:
    result = run([str(ctx.tool("kubectl")), "kustomize", str(OVERLAYS / overlay)])
    check(result.returncode == 0, f"kubectl kustomize {overlay}:\n{result.stderr}")
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def helm_template(ctx, extra: list[str]) -> list[dict]:
    result = run([str(ctx.tool("helm")), "template", "gw", str(CHART), "--namespace", "llm-gateway",
                  "--kube-version", KUBERNETES_VERSION, *extra])
    check(result.returncode == 0, f"helm template {' '.join(extra)}:\n{result.stderr}")
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def validate(objects: list[dict], what: str) -> None:
    """kubernetes-validate, strict, of every object the Kubernetes schemas know."""
    import kubernetes_validate

    known = [o for o in objects if o["kind"] not in OPERATOR_KINDS]
    check(known, f"{what} rendered nothing")
    for obj in known:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            raise AssertionError(f"{what}: {obj['kind']}/{obj['metadata']['name']}: {e.message} at {list(e.path)}") from None
    for obj in objects:
        if obj["kind"] == "ServiceMonitor":
            endpoints = obj["spec"]["endpoints"]
            check(obj["spec"]["selector"]["matchLabels"] and endpoints[0]["port"] == "http", f"{what}: ServiceMonitor shape")
        if obj["kind"] == "PrometheusRule":
            check(obj["spec"]["groups"][0]["rules"], f"{what}: PrometheusRule has rules")


def by_kind(objects: list[dict]) -> dict[str, dict]:
    """The gateway's object of each kind (the optional PostgreSQL and Redis left out)."""
    return {o["kind"]: o for o in objects if o["metadata"]["labels"].get("app.kubernetes.io/name") == "llm-gateway"}


def config_of(objects: list[dict]) -> str:
    maps = [o for o in objects if o["kind"] == "ConfigMap" and "gateway.toml" in o.get("data", {})]
    check(len(maps) == 1, "one ConfigMap holds gateway.toml")
    return maps[0]["data"]["gateway.toml"]


def check_rendered_config(ctx, objects: list[dict], what: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gateway.toml"
        path.write_text(config_of(objects))
        ctx.check_config(path, CONFIG_ENV)


def test_kustomize_overlays_render_and_validate(ctx):
    for overlay in ("dev", "production"):
        objects = kustomize(ctx, overlay)
        validate(objects, f"overlay {overlay}")
        check_rendered_config(ctx, objects, f"overlay {overlay}")
        deployment = by_kind(objects)["Deployment"]
        pod = deployment["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        check(volumes["config"]["configMap"]["name"] == config_maps(objects)[0],
              f"overlay {overlay}: the pods mount the generated ConfigMap")


def config_maps(objects):
    return [o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"]


def test_helm_chart_lints_renders_and_validates(ctx):
    result = run([str(ctx.tool("helm")), "lint", "--strict", str(CHART)])
    check(result.returncode == 0, f"helm lint:\n{result.stdout}{result.stderr}")
    for name, extra in HELM_VARIANTS.items():
        objects = helm_template(ctx, extra)
        validate(objects, f"chart ({name})")
        check_rendered_config(ctx, objects, f"chart ({name})")
        kinds = by_kind(objects)
        if name == "minimal":
            check(not OPERATOR_KINDS & set(kinds) and "HorizontalPodAutoscaler" not in kinds, "optional objects off")
            check(kinds["Deployment"]["spec"]["replicas"] == 3, "without autoscaling, replicaCount applies")
        if name == "everything":
            check("StatefulSet" in {o["kind"] for o in objects}, "postgresql.enabled renders PostgreSQL")


def test_secrets_are_referenced_never_embedded(ctx):
    for what, objects in (("chart", helm_template(ctx, HELM_VARIANTS["everything"])),
                          ("overlay production", kustomize(ctx, "production"))):
        check(not [o for o in objects if o["kind"] == "Secret"], f"{what} renders no Secret")
        container = by_kind(objects)["Deployment"]["spec"]["template"]["spec"]["containers"][0]
        for env in container["env"]:
            if env["name"] in CONFIG_ENV:
                check("secretKeyRef" in env.get("valueFrom", {}), f"{what}: {env['name']} comes from a Secret")


def comparable(objects: list[dict]) -> dict:
    """What must be equal between the chart and the production overlay: specs without names,
    labels, the chart's checksum annotation and the generated ConfigMap's hash."""
    out = {}
    for obj in objects:
        if obj["kind"] in ("ConfigMap", "ServiceAccount", "PrometheusRule"):
            continue
        spec = copy.deepcopy(obj["spec"])
        if obj["kind"] == "Deployment":
            spec.pop("replicas", None)
            spec.pop("selector")
            template = spec["template"]
            template.pop("metadata")
            pod = template["spec"]
            pod.pop("serviceAccountName")
            pod["topologySpreadConstraints"][0].pop("labelSelector")
            for volume in pod["volumes"]:
                volume.get("configMap", {}).pop("name", None)
            pod["containers"][0]["env"] = sorted(pod["containers"][0]["env"], key=lambda e: e["name"])
        for key in ("selector", "podSelector"):
            spec.pop(key, None)
        if obj["kind"] == "HorizontalPodAutoscaler":
            spec["scaleTargetRef"].pop("name")
        out[obj["kind"]] = spec
    return out


def test_chart_and_kustomize_stay_in_step(ctx):
    chart = comparable(helm_template(ctx, []))
    plain = comparable(kustomize(ctx, "production"))
    check(set(chart) == set(plain), f"kinds differ: chart {sorted(chart)}, kustomize {sorted(plain)}")
    for kind in chart:
        check(chart[kind] == plain[kind], f"{kind} differs between the chart and the production overlay:\n"
              f"chart: {yaml.safe_dump(chart[kind])}\nkustomize: {yaml.safe_dump(plain[kind])}")
    chart_toml = config_of(helm_template(ctx, []))
    plain_toml = (DEPLOY / "kubernetes" / "base" / "gateway.toml").read_text()
    strip = lambda t: [line for line in t.splitlines() if line.strip() and not line.startswith("#")]  # noqa: E731
    check(strip(chart_toml) == strip(plain_toml), "the chart's default config equals base/gateway.toml")


def test_deployment_is_production_shaped(ctx):
    objects = kustomize(ctx, "production")
    kinds = by_kind(objects)
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    check(container["livenessProbe"]["httpGet"]["path"] == "/health", "liveness on /health")
    check(container["readinessProbe"]["httpGet"]["path"] == "/ready", "readiness on /ready")
    check(container["lifecycle"]["preStop"]["sleep"]["seconds"] > 0, "a preStop drain")
    security = container["securityContext"]
    check(security["readOnlyRootFilesystem"] and security["capabilities"]["drop"] == ["ALL"]
          and not security["allowPrivilegeEscalation"], "read-only root, no capabilities")
    check(pod["securityContext"]["runAsNonRoot"], "non-root")
    grace = tomllib.loads(config_of(objects))["server"]
    check(pod["terminationGracePeriodSeconds"] > container["lifecycle"]["preStop"]["sleep"]["seconds"]
          + grace["shutdown_grace_secs"], "the termination grace covers preStop plus the drain")
    metrics = [m["type"] for m in kinds["HorizontalPodAutoscaler"]["spec"]["metrics"]]
    check(metrics == ["Resource", "Pods"], f"HPA on CPU and in-flight requests: {metrics}")
    check(kinds["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1, "PDB")


def test_prometheus_rule_carries_the_compose_alerts(ctx):
    shipped = yaml.safe_load((DEPLOY / "compose" / "prometheus" / "alerts.yml").read_text())
    copy_in_chart = yaml.safe_load((CHART / "files" / "alerts.yml").read_text())
    check(copy_in_chart == shipped, "deploy/helm/llm-gateway/files/alerts.yml equals deploy/compose/prometheus/alerts.yml")
    rule = by_kind(helm_template(ctx, []))["PrometheusRule"]
    check(rule["spec"] == shipped, "the PrometheusRule renders alerts.yml unchanged")
