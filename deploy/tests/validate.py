#!/usr/bin/env python3
"""Checks of everything under deploy/, with the real tools where they can run here.

No Docker engine and no Kubernetes cluster run on the test machines, so nothing is started;
each artefact is checked by the tool that reads it in production (see docs/deployment.md,
"What was validated"):

- Dockerfile: parsed by the `dockerfile` package (Docker's own Go parser); stages,
  non-root user, health check, stop signal, volume, entry point.
- compose: `docker-compose config` (resolves and validates against the Compose
  specification offline), then the stack's shape; the gateway.toml it mounts passes
  `llm-gateway --check-config`.
- Prometheus: `promtool check config`, `promtool check rules`, `promtool test rules`.
- Grafana: the dashboard's structure, and every metric and label it (or a rule) names is one
  the gateway exports (names read from the source, labels from a live scrape of the real
  binary after a few calls).
- Kubernetes: `kubectl kustomize` of every overlay and `helm lint` / `helm template` of the
  chart, every rendered object validated by kubernetes-validate against the Kubernetes
  schemas, each rendered gateway.toml through `llm-gateway --check-config`.

Run by `cargo xtask test` (step "deployment checks"); by hand:

    python3 deploy/tests/validate.py --gateway-bin target/debug/llm-gateway [-k NAME]

Prints `deploy: N passed, M failed, K skipped`. A tool that cannot be installed skips its
checks with one line saying why, unless GATEWAY_REQUIRE_SERVICES=1 (CI), where it fails.
"""

import sys

sys.dont_write_bytecode = True  # no __pycache__ in the clone

import argparse  # noqa: E402
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tools  # noqa: E402


def in_deploy_venv() -> bool:
    return Path(sys.prefix).resolve() == tools.venv_dir().resolve()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway-bin", required=True, help="the llm-gateway binary to check configurations with")
    parser.add_argument("-k", dest="only", help="run only the checks whose name contains this")
    args = parser.parse_args()
    if not in_deploy_venv():
        python = tools.ensure_venv()
        os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])
    from checks import run_all  # noqa: E402 (needs the venv's packages)

    return run_all(Path(args.gateway_bin).resolve(), args.only)


if __name__ == "__main__":
    sys.exit(main())
