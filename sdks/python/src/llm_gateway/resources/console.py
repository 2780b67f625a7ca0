"""What the admin API tells an operator's tools about the caller and the running gateway:
``GET /admin/v1/me``, ``GET /admin/v1/config`` (secrets redacted) and
``POST /admin/v1/guardrails/check`` (any tenant's guardrails, for an admin credential)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from .._transport import Call
from ..types import Caller, GuardrailVerdict, RunningConfig
from ._base import AsyncResource, SyncResource
from ._parse import one, with_meta


def _me() -> Call[Caller]:
    return Call("GET", "/admin/v1/me", one(Caller))


def _config() -> Call[RunningConfig]:
    return Call("GET", "/admin/v1/config", one(RunningConfig))


def _check(text: str, tenant: Optional[str], direction: str) -> Call[GuardrailVerdict]:
    if direction not in ("input", "output"):
        raise ValueError("direction is 'input' or 'output'")
    body: Dict[str, Any] = {"text": text, "direction": direction}
    if tenant is not None:
        body["tenant"] = tenant
    # A check changes nothing: safe to retry.
    return Call("POST", "/admin/v1/guardrails/check", with_meta(GuardrailVerdict), body=body, idempotent=True)


class Console(SyncResource):
    def me(self) -> Caller:
        """Who the admin credential is: subject, tenant, roles and permissions."""
        return self._send(_me())

    def config(self) -> RunningConfig:
        """The running configuration as TOML, every secret redacted (needs ``manage_config``)."""
        return self._send(_config())

    def check_guardrails(self, text: str, *, tenant: Optional[str] = None, direction: str = "input") -> GuardrailVerdict:
        """``tenant``'s guardrails (default: the caller's) on ``text``, without a model call."""
        return self._send(_check(text, tenant, direction))


class AsyncConsole(AsyncResource):
    async def me(self) -> Caller:
        return await self._send(_me())

    async def config(self) -> RunningConfig:
        return await self._send(_config())

    async def check_guardrails(
        self, text: str, *, tenant: Optional[str] = None, direction: str = "input"
    ) -> GuardrailVerdict:
        return await self._send(_check(text, tenant, direction))
