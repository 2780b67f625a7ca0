"""The SDK covers every operation of the gateway's own APIs in ``docs/openapi.json``.

When the specification gains an admin operation (batches, feedback, templates, ...), this
fails until the SDK has a method for it. Without the file (not generated yet) it is skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import httpx

import pytest

from llm_gateway import AsyncGateway, Gateway

SPEC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"

#: (method, path with parameters as {}) -> the SDK method that calls it.
COVERED: Dict[Tuple[str, str], str] = {
    ("GET", "/admin/v1/tenants"): "tenants.list",
    ("POST", "/admin/v1/tenants"): "tenants.create",
    ("GET", "/admin/v1/tenants/{}"): "tenants.get",
    ("PATCH", "/admin/v1/tenants/{}"): "tenants.update",
    ("DELETE", "/admin/v1/tenants/{}"): "tenants.delete",
    ("GET", "/admin/v1/keys"): "keys.list",
    ("POST", "/admin/v1/keys"): "keys.create",
    ("GET", "/admin/v1/keys/{}"): "keys.get",
    ("PATCH", "/admin/v1/keys/{}"): "keys.update",
    ("POST", "/admin/v1/keys/{}/rotate"): "keys.rotate",
    ("POST", "/admin/v1/keys/{}/revoke"): "keys.revoke",
    ("POST", "/admin/v1/keys/{}/resume"): "keys.resume",
    ("GET", "/admin/v1/anomalies"): "anomalies.list",
    ("GET", "/admin/v1/usage"): "usage.report",
    ("GET", "/admin/v1/feedback"): "feedback.list",
    ("GET", "/admin/v1/feedback/summary"): "feedback.summary",
    ("POST", "/v1/feedback"): "feedback.give",
    ("GET", "/admin/v1/audit"): "audit.list",
    ("GET", "/admin/v1/audit/verify"): "audit.verify",
    ("GET", "/admin/v1/deployments"): "deployments.list",
    ("POST", "/admin/v1/cache/invalidate"): "cache.invalidate",
    ("GET", "/admin/v1/me"): "console.me",
    ("GET", "/admin/v1/config"): "console.config",
    ("POST", "/admin/v1/guardrails/check"): "console.check_guardrails",
    ("GET", "/admin/v1/webhooks"): "webhooks.list",
    ("POST", "/admin/v1/webhooks"): "webhooks.create",
    ("GET", "/admin/v1/webhooks/{}"): "webhooks.get",
    ("PATCH", "/admin/v1/webhooks/{}"): "webhooks.update",
    ("DELETE", "/admin/v1/webhooks/{}"): "webhooks.delete",
    ("POST", "/admin/v1/webhooks/{}/rotate-secret"): "webhooks.rotate_secret",
    ("GET", "/admin/v1/webhooks/{}/deliveries"): "webhooks.deliveries",
    ("POST", "/admin/v1/webhooks/deliveries/{}/redeliver"): "webhooks.redeliver",
    ("POST", "/admin/v1/backups"): "backups.create",
    ("GET", "/admin/v1/backups"): "backups.list",
    ("GET", "/admin/v1/backups/{}"): "backups.get",
    ("GET", "/admin/v1/tenants/{}/encryption"): "encryption.status",
    ("POST", "/admin/v1/tenants/{}/encryption/rotate"): "encryption.rotate",
    ("POST", "/admin/v1/tenants/{}/encryption/reencrypt"): "encryption.reencrypt",
    ("POST", "/admin/v1/tenants/{}/encryption/open"): "encryption.open",
    ("POST", "/admin/v1/encryption/rewrap"): "encryption.rewrap",
    ("GET", "/admin/v1/templates"): "templates.list",
    ("POST", "/admin/v1/templates"): "templates.create",
    ("GET", "/admin/v1/templates/{}"): "templates.get",
    ("GET", "/admin/v1/templates/{}/versions/{}"): "templates.get_version",
    ("DELETE", "/admin/v1/templates/{}"): "templates.delete",
    ("POST", "/admin/v1/templates/{}/render"): "templates.render",
    ("POST", "/admin/v1/prompts/lint"): "prompts.lint",
    ("GET", "/v1/async/{}"): "async_calls.get",
    ("DELETE", "/v1/async/{}"): "async_calls.cancel",
    ("POST", "/v1/guardrails/check"): "guardrails.check",
    ("GET", "/v1/models"): "models.list",
    ("POST", "/query"): "query",
    ("GET", "/health"): "health",
    ("GET", "/ready"): "ready",
}

#: The gateway's own APIs: what the SDK must cover (model calls are the official SDKs').
OWN = re.compile(r"^(/admin/v1/|/v1/guardrails/|/v1/async/|/v1/feedback$)")


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_method_named_here_exists() -> None:
    for client in (Gateway, AsyncGateway):
        instance = client("http://127.0.0.1:9", "token-0123456789abcdef")
        for name in COVERED.values():
            target: object = instance
            for part in name.split("."):
                target = getattr(target, part)
            assert callable(target), name


def test_the_sdk_covers_every_operation_of_the_specification() -> None:
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} does not exist yet")
    spec = json.loads(SPEC.read_text())
    operations: Set[Tuple[str, str]] = set()
    for path, item in spec.get("paths", {}).items():
        if not OWN.match(path):
            continue
        for method in item:
            if method.lower() in ("get", "post", "put", "patch", "delete"):
                operations.add((method.upper(), _normalise(path)))
    missing = sorted(operations - set(COVERED))
    assert not missing, f"operations in docs/openapi.json without an SDK method: {missing}"


#: Arguments that make each method of COVERED send its request (none: no arguments).
ARGS: Dict[str, Tuple[Tuple[Any, ...], Dict[str, Any]]] = {
    "tenants.create": (("t",), {}),
    "tenants.get": (("t",), {}),
    "tenants.update": (("t",), {"name": "n"}),
    "tenants.delete": (("t",), {}),
    "keys.create": (("t", "n"), {}),
    "keys.get": (("k",), {}),
    "keys.update": (("k",), {"name": "n"}),
    "keys.rotate": (("k",), {}),
    "keys.revoke": (("k",), {}),
    "keys.resume": (("k",), {}),
    "console.check_guardrails": (("x",), {}),
    "webhooks.create": (("t", "https://h.example/x", ["key.created"]), {}),
    "webhooks.get": (("ep",), {}),
    "webhooks.update": (("ep",), {"enabled": False}),
    "webhooks.delete": (("ep",), {}),
    "webhooks.rotate_secret": (("ep",), {}),
    "webhooks.deliveries": (("ep",), {}),
    "webhooks.redeliver": (("msg",), {}),
    "backups.get": (("gateway-20261206T210000000Z",), {}),
    "encryption.status": (("t",), {}),
    "encryption.rotate": (("t",), {}),
    "encryption.reencrypt": (("t",), {}),
    "encryption.open": (("t", ["gwe1:AAAA"]), {}),
    "templates.create": (("greet",), {"prompt": "Hi {{ name }}"}),
    "templates.get": (("greet",), {}),
    "templates.get_version": (("greet", 1), {}),
    "templates.delete": (("greet",), {}),
    "templates.render": (("greet", {"name": "x"}), {}),
    "prompts.lint": ((), {"prompt": "Hi"}),
    "async_calls.get": (("async_0193a5c2e1d07c6a9f3b2d1e0f4a5b6c",), {}),
    "async_calls.cancel": (("async_0193a5c2e1d07c6a9f3b2d1e0f4a5b6c",), {}),
    "guardrails.check": (("x",), {}),
    "feedback.give": (("req-1", "up"), {}),
    "query": (("x",), {}),
}


def test_each_method_named_here_sends_its_operation() -> None:
    sent: List[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.raw_path.decode().split('?')[0]}")
        return httpx.Response(200, json={"object": "list", "data": [], "next_after": None})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = Gateway("http://gateway.invalid", "token-0123456789abcdef", max_retries=0, http_client=http)
    for (method, template), name in COVERED.items():
        target: Any = client
        for part in name.split("."):
            target = getattr(target, part)
        args, kwargs = ARGS.get(name, ((), {}))
        sent.clear()
        try:
            target(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the canned answer need not parse as every record
            pass
        pattern = re.escape(f"{method} {template}").replace(re.escape("{}"), "[^/]+")
        assert sent and re.fullmatch(pattern, sent[-1]), f"{name} sent {sent or 'nothing'}, not {method} {template}"
