"""The check runner of validate.py: each check is a function taking the Context; a check
raises on failure, or `Skip` when a tool it needs cannot be had (a failure in CI)."""

import os
import subprocess
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import tools

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


class Skip(Exception):
    """The check cannot run here (a missing tool)."""


class CheckFailed(AssertionError):
    pass


def check(cond, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


@dataclass
class Context:
    gateway_bin: Path
    _tools: dict = field(default_factory=dict)

    def tool(self, name: str) -> Path:
        """A tool's path (installed on first use); `Skip` when it cannot be had."""
        if name not in self._tools:
            try:
                if name in ("helm", "kubectl"):
                    helm, kubectl = tools.ensure_helm_kubectl()
                    self._tools.update(helm=helm, kubectl=kubectl)
                else:
                    self._tools[name] = tools.ensure_debian_tool(name)
            except (tools.Unavailable, OSError, subprocess.CalledProcessError) as e:
                self._tools[name] = e
        found = self._tools[name]
        if isinstance(found, Exception):
            raise Skip(f"{name}: {found}")
        return found

    def check_config(self, path: Path, env: dict) -> str:
        """`llm-gateway --check-config -c path` with `env` added; its output."""
        result = run([str(self.gateway_bin), "--check-config", "-c", str(path)], env=env)
        check(result.returncode == 0, f"{path} is rejected by llm-gateway --check-config:\n{result.stdout}{result.stderr}")
        return result.stdout


def run(argv, env: dict | None = None, cwd: Path | None = None, input: str | None = None):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run(argv, env=full, cwd=cwd, input=input, capture_output=True, text=True, timeout=300)


def all_checks():
    import check_docker
    import check_compose
    import check_metrics
    import check_kubernetes
    import check_operator

    for module in (check_docker, check_compose, check_metrics, check_kubernetes, check_operator):
        for name in sorted(dir(module)):
            if name.startswith("test_"):
                yield f"{module.__name__}.{name}", getattr(module, name)


def run_all(gateway_bin: Path, only: str | None) -> int:
    require = os.environ.get("GATEWAY_REQUIRE_SERVICES") == "1"
    ctx = Context(gateway_bin=gateway_bin)
    passed = failed = skipped = 0
    for name, fn in all_checks():
        if only and only not in name:
            continue
        try:
            fn(ctx) if fn.__code__.co_argcount else fn()
        except Skip as why:
            if require:
                failed += 1
                print(f"FAIL {name}: required tool missing (GATEWAY_REQUIRE_SERVICES=1): {why}")
            else:
                skipped += 1
                print(f"skip {name}: {why}")
            continue
        except Exception as e:  # noqa: BLE001 (every failure is reported, then the next check runs)
            failed += 1
            detail = str(e) if isinstance(e, CheckFailed) else traceback.format_exc()
            print(f"FAIL {name}: {detail}")
            continue
        passed += 1
        print(f"ok   {name}")
    print(f"deploy: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0
