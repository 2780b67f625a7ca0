"""deploy/docker/Dockerfile, read by Docker's own parser (the `dockerfile` package)."""

import re
import tomllib

import dockerfile

from checks import DEPLOY, REPO, check

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"


def stages():
    """The instructions of each stage, by stage name."""
    out, current = {}, None
    for ins in dockerfile.parse_file(str(DOCKERFILE)):
        if ins.cmd == "FROM":
            name = ins.value[2].lower() if len(ins.value) == 3 and ins.value[1].lower() == "as" else ins.value[0]
            current = out.setdefault(name, [])
        check(current is not None or ins.cmd == "ARG", f"{ins.cmd} before the first FROM")
        if current is not None:
            current.append(ins)
    return out


def first(instructions, cmd):
    found = [i for i in instructions if i.cmd == cmd]
    return found[-1] if found else None


def test_multi_stage_release_build():
    s = stages()
    check({"build", "runtime", "mock-upstream"} <= set(s), f"stages: {sorted(s)}")
    build = " ".join(" ".join(i.value) for i in s["build"] if i.cmd == "RUN")
    check("cargo build --locked" in build, "the build stage runs cargo build --locked")
    check('--profile "${PROFILE}"' in build, "the build profile is a build argument")
    args = {i.value[0].split("=")[0]: i.value[0] for i in s["build"] if i.cmd == "ARG"}
    check(args.get("PROFILE") == "PROFILE=release", f"PROFILE defaults to release: {args}")
    members = tomllib.loads((REPO / "Cargo.toml").read_text())["workspace"]["members"]
    names = {tomllib.loads((REPO / m / "Cargo.toml").read_text())["package"]["name"] for m in members}
    for package in re.findall(r"-p ([a-z][a-z0-9-]*)", build):
        check(package in names, f"the Dockerfile builds {package}, which is no workspace member")


def test_runtime_is_minimal_non_root_and_healthchecked():
    runtime = stages()["runtime"]
    base = runtime[0].value[0]
    check(base.startswith("gcr.io/distroless/cc-debian12"), f"runtime base: {base}")
    user = first(runtime, "USER")
    check(user is not None and user.value[0].split(":")[0] not in ("0", "root"), "the runtime runs as a non-root user")
    health = first(runtime, "HEALTHCHECK")
    check(health is not None and "health" in health.value and "CMD" in health.value, "HEALTHCHECK runs gatewayctl health")
    check("--interval=10s" in health.flags, f"health check flags: {health.flags}")
    check(first(runtime, "STOPSIGNAL").value[0] == "SIGTERM", "STOPSIGNAL SIGTERM (the gateway drains on it)")
    check(first(runtime, "VOLUME").value[0] == "/data", "the data volume is /data")
    check(first(runtime, "EXPOSE").value[0] == "8080", "port 8080 is exposed")
    check(first(runtime, "ENTRYPOINT").value[0] == "/usr/local/bin/llm-gateway", "the entry point is the gateway")
    env = " ".join(first(runtime, "ENV").value)
    check("GATEWAY__SERVER__DATA_DIR /data" in env or "GATEWAY__SERVER__DATA_DIR=/data" in env.replace(" ", "="),
          f"data_dir points at the volume: {env}")
    copied = [i for i in runtime if i.cmd == "COPY"]
    check(all(any(f.startswith("--from=build") for f in i.flags) for i in copied), "the runtime copies only from the build stage")


def test_dockerignore_keeps_build_outputs_out():
    ignore = (DEPLOY / "docker" / "Dockerfile.dockerignore").read_text().split()
    for needed in ("target", ".git", ".venv"):
        check(needed in ignore, f"{needed} is left out of the build context")

