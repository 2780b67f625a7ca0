"""``POST /v1/guardrails/check``: the caller's tenant's guardrails on a text, without a
model call. Takes the same credentials as model calls (a gateway API key)."""

from __future__ import annotations

from .._transport import Call
from ..types import GuardrailVerdict
from ._base import AsyncResource, SyncResource
from ._parse import with_meta


def _check(text: str, direction: str) -> Call[GuardrailVerdict]:
    if direction not in ("input", "output"):
        raise ValueError("direction is 'input' or 'output'")
    # A check changes nothing: safe to retry.
    return Call(
        "POST",
        "/v1/guardrails/check",
        with_meta(GuardrailVerdict),
        body={"text": text, "direction": direction},
        idempotent=True,
    )


class Guardrails(SyncResource):
    def check(self, text: str, *, direction: str = "input") -> GuardrailVerdict:
        """Check ``text`` as a request message (``input``) or a model answer (``output``)."""
        return self._send(_check(text, direction))


class AsyncGuardrails(AsyncResource):
    async def check(self, text: str, *, direction: str = "input") -> GuardrailVerdict:
        return await self._send(_check(text, direction))
