"""deploy/compose: `docker-compose config` (Compose specification, offline) and the stack's
shape; its gateway.toml through `llm-gateway --check-config`; Prometheus through promtool."""

import re
import shutil
import tempfile
import tomllib
from pathlib import Path

import yaml

from checks import DEPLOY, check, run

COMPOSE = DEPLOY / "compose"
GATEWAYS = ("gateway-1", "gateway-2", "gateway-3")
SECRETS = {
    "POSTGRES_PASSWORD": "pw-for-validation",
    "GATEWAY_ADMIN_TOKEN": "admin-token-for-validation",
    "GATEWAY_KEY_PEPPER": "pepper-for-validation",
    "GRAFANA_ADMIN_PASSWORD": "grafana-for-validation",
}


def compose_config(ctx, env: dict):
    tool = ctx.tool("docker-compose")
    clean = {k: "" for k in SECRETS} | env
    # Values from the shell win over a developer's .env; an empty one counts as unset for :?.
    return run([str(tool), "--project-directory", str(COMPOSE), "-f", str(COMPOSE / "compose.yaml"), "config"],
               env=clean, cwd=COMPOSE)


def resolved(ctx):
    result = compose_config(ctx, SECRETS)
    check(result.returncode == 0, f"docker-compose config failed:\n{result.stderr}")
    return yaml.safe_load(result.stdout)


def test_compose_file_is_valid_and_complete(ctx):
    services = resolved(ctx)["services"]
    expected = {*GATEWAYS, "load-balancer", "postgres", "redis", "prometheus", "grafana", "otel-collector"}
    check(expected <= set(services), f"services: {sorted(services)}")
    shutdown_grace = tomllib.loads((COMPOSE / "gateway.toml").read_text())["server"]["shutdown_grace_secs"]
    for name in GATEWAYS:
        s = services[name]
        check(s.get("read_only") is True, f"{name}: read-only root filesystem")
        check(s.get("cap_drop") == ["ALL"], f"{name}: every capability dropped")
        check("healthcheck" in s and "health" in s["healthcheck"]["test"], f"{name}: health check")
        grace = s.get("stop_grace_period", "")
        check(re.fullmatch(r"\d+s", grace) and int(grace[:-1]) > shutdown_grace,
              f"{name}: stop_grace_period {grace!r} must exceed shutdown_grace_secs {shutdown_grace}")
        mounts = [v.get("target") if isinstance(v, dict) else str(v).split(":")[1] for v in s["volumes"]]
        check("/data" in mounts,
              f"{name}: a writable /data volume")
        env = s["environment"]
        check(env["GATEWAY_ADMIN_TOKEN"] == SECRETS["GATEWAY_ADMIN_TOKEN"], f"{name}: secrets come from .env")
    check(services["postgres"]["healthcheck"], "postgres has a health check the gateways wait on")


def test_compose_refuses_missing_secrets(ctx):
    result = compose_config(ctx, {})
    check(result.returncode != 0, "docker-compose config accepted a stack without its secrets")
    check("set POSTGRES_PASSWORD in .env" in result.stderr or "set GATEWAY_" in result.stderr, result.stderr)


def test_load_balancer_and_prometheus_cover_every_replica():
    nginx = (COMPOSE / "nginx" / "gateway.conf").read_text()
    upstreams = re.findall(r"server (gateway-\d):8080", nginx)
    check(tuple(upstreams) == GATEWAYS, f"nginx upstreams: {upstreams}")
    check("proxy_buffering off" in nginx, "streams pass the balancer unbuffered")
    prom = yaml.safe_load((COMPOSE / "prometheus" / "prometheus.yml").read_text())
    targets = [t for job in prom["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    check(sorted(targets) == [f"{g}:8080" for g in GATEWAYS], f"scrape targets: {targets}")


def test_compose_gateway_config_passes_check_config(ctx):
    env = {
        "GATEWAY_DATABASE_URL": "postgres://gateway:pw@postgres:5432/gateway",
        "GATEWAY_ADMIN_TOKEN": SECRETS["GATEWAY_ADMIN_TOKEN"],
        "GATEWAY_KEY_PEPPER": SECRETS["GATEWAY_KEY_PEPPER"],
        "OPENAI_API_KEY": "not-set",
        "OPENAI_BASE_URL": "https://api.openai.com/v1",
        "DEMO_BASE_URL": "http://mock-upstream:9000/v1",
    }
    out = ctx.check_config(COMPOSE / "gateway.toml", env)
    check("configuration OK" in out, out)


def promtool(ctx, *args, cwd=None):
    result = run([str(ctx.tool("promtool")), *args], cwd=cwd)
    check(result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}")
    return result.stdout


def test_prometheus_rules_pass_promtool_and_their_unit_tests(ctx):
    rules = COMPOSE / "prometheus"
    promtool(ctx, "check", "rules", "alerts.yml", cwd=rules)
    out = promtool(ctx, "test", "rules", "alerts_test.yml", cwd=rules)
    check("SUCCESS" in out, out)


def test_prometheus_config_passes_promtool(ctx):
    promtool_path = ctx.tool("promtool")
    with tempfile.TemporaryDirectory() as tmp:
        # The rule file is mounted at /etc/prometheus in the container; point at the copy.
        shutil.copy(COMPOSE / "prometheus" / "alerts.yml", Path(tmp) / "alerts.yml")
        config = (COMPOSE / "prometheus" / "prometheus.yml").read_text()
        check("/etc/prometheus/alerts.yml" in config, "prometheus.yml loads the mounted alerts.yml")
        (Path(tmp) / "prometheus.yml").write_text(config.replace("/etc/prometheus/alerts.yml", "alerts.yml"))
        result = run([str(promtool_path), "check", "config", "prometheus.yml"], cwd=Path(tmp))
        check(result.returncode == 0, f"promtool check config:\n{result.stdout}{result.stderr}")


def test_grafana_and_collector_provisioning():
    datasource = yaml.safe_load((COMPOSE / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    check(datasource["datasources"][0]["url"] == "http://prometheus:9090", "Grafana reads the stack's Prometheus")
    dashboards = yaml.safe_load((COMPOSE / "grafana/provisioning/dashboards/gateway.yaml").read_text())
    check(dashboards["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards", "dashboards path")
    collector = yaml.safe_load((COMPOSE / "otel/collector.yaml").read_text())
    check(collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318"), "OTLP/HTTP on 4318")
    gateway = tomllib.loads((COMPOSE / "gateway.toml").read_text())
    check(gateway["telemetry"]["otlp"]["endpoint"] == "http://otel-collector:4318", "the gateways send traces to the collector")
    pipeline = collector["service"]["pipelines"]["traces"]
    for stage in ("receivers", "processors", "exporters"):
        for item in pipeline[stage]:
            check(item in collector[stage], f"collector pipeline names an undefined {stage[:-1]} {item}")


def test_smoke_script_is_valid_bash():
    result = run(["bash", "-n", str(COMPOSE / "smoke.sh")])
    check(result.returncode == 0, result.stderr)


