"""The compatibility matrix: one row per (client SDK, upstream kind, feature).

Any module `rows_*.py` in this folder declares rows with the `@row(...)` decorator; the runner
(`run_compat.py`) imports every such module, runs each row against the gateway, checks that it
behaves as declared, and publishes the declarations as `docs/compatibility.md`. A row either
works (`unsupported=None`) or is an explicit "not supported by that vendor" row, whose
`unsupported` text says what the client gets instead (the row's function asserts exactly
that, so the published text cannot drift from what the gateway does).

A row's function takes the `Context` and raises (`AssertionError` through `check`) on failure.
`Context.model(upstream, mock, script)` names the gateway model that reaches an upstream of
that kind: `mock="llmock"` (the third-party mock from PyPI) or `mock="testkit"` (the gateway's
own vendor mocks, scripted by model name, for what llmock cannot do).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Callable

#: Upstream kinds a row can target (a `kind` of `[providers.*]`).
UPSTREAMS = ("openai", "anthropic", "gemini")

#: Scripted models of the gateway's own vendor mocks (gateway-testkit), by vendor.
TESTKIT_SCRIPTS = {
    "openai": ("mock-500",),
    "anthropic": ("mock-overloaded", "mock-thinking", "mock-cache", "mock-stop-sequence", "mock-500"),
    "gemini": ("mock-overloaded", "mock-thinking"),
}


@dataclass(frozen=True)
class Row:
    client: str
    upstream: str
    feature: str
    run: Callable[["Context"], None]
    mock: str = "llmock"
    unsupported: str | None = None
    needs: str | None = None


ROWS: list[Row] = []


def row(
    client: str,
    upstream: str,
    feature: str,
    *,
    mock: str = "llmock",
    unsupported: str | None = None,
    needs: str | None = None,
) -> Callable[[Callable[["Context"], None]], Callable[["Context"], None]]:
    """Declare `fn` as the row (client, upstream, feature); see the module doc."""
    if upstream not in UPSTREAMS:
        raise ValueError(f"unknown upstream kind {upstream!r}")
    if mock not in ("llmock", "testkit"):
        raise ValueError(f"unknown mock {mock!r}")

    def register(fn: Callable[["Context"], None]) -> Callable[["Context"], None]:
        ROWS.append(Row(client, upstream, feature, fn, mock, unsupported, needs))
        return fn

    return register


class Skip(Exception):
    """A row that cannot run here (a missing toolchain); fatal under GATEWAY_REQUIRE_SERVICES=1."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def expect_error(exc_type: type[BaseException], fn: Callable[[], object]) -> Any:
    try:
        result = fn()
    except exc_type as err:
        return err
    except Exception as err:  # noqa: BLE001 - report what came instead
        raise AssertionError(f"expected {exc_type.__name__}, got {type(err).__name__}: {err}") from err
    raise AssertionError(f"expected {exc_type.__name__}, got a result: {result!r}")


@dataclass
class Context:
    """What a row gets: the gateway, the mocks and ready-made clients (retries off)."""

    base_url: str
    api_key: str
    llmock: Any  # llmock.testing.LLMockServer
    node_modules: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def model(self, upstream: str, mock: str = "llmock", script: str | None = None) -> str:
        """The gateway model that reaches `upstream` through `mock` (a testkit `script`)."""
        name = f"{mock}-{upstream}"
        return f"{name}-{script.removeprefix('mock-')}" if script else name

    def openai(self):
        import openai

        return openai.OpenAI(base_url=f"{self.base_url}/v1", api_key=self.api_key, max_retries=0, timeout=30.0)

    def anthropic(self):
        import anthropic

        return anthropic.Anthropic(base_url=self.base_url, api_key=self.api_key, max_retries=0, timeout=30.0)

    def genai(self):
        """A google-genai client on the gateway's Gemini API (`/v1beta`), retries off."""
        from google import genai
        from google.genai import types

        options = types.HttpOptions(
            base_url=self.base_url, api_version="v1beta", timeout=30_000, retry_options=types.HttpRetryOptions(attempts=1)
        )
        return genai.Client(api_key=self.api_key, http_options=options)

    def script(self, behaviour: dict[str, Any]) -> None:
        """Queue an llmock behaviour (its JSON form, e.g. `{"type": "fail", "status": 503}`)."""
        from llmock.scenarios import behavior_from_dict

        self.llmock.state.scenarios.add(behavior_from_dict(behaviour))

    def upstream_bodies(self, path_part: str) -> list[Any]:
        """The bodies llmock received on paths containing `path_part`, oldest first."""
        return [r.body for r in self.llmock.state.journal.records() if path_part in r.path]

    def clear_upstream(self) -> None:
        self.llmock.state.reset()

    def node(self, script: str, *args: str) -> Any:
        """Run `node/<script>` with the cached npm packages; its stdout is JSON."""
        node = shutil.which("node")
        if node is None or not self.node_modules or not os.path.isdir(self.node_modules):
            raise Skip("node or the cached npm packages are missing (cargo xtask test installs them)")
        here = os.path.dirname(os.path.abspath(__file__))
        env = {**os.environ, "NODE_PATH": self.node_modules, "GATEWAY_URL": self.base_url, "GATEWAY_KEY": self.api_key}
        out = subprocess.run(
            [node, os.path.join(here, "node", script), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if out.returncode != 0:
            raise AssertionError(f"node {script} {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
        return json.loads(out.stdout)
