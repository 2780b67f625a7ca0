"""``/admin/v1/cache/invalidate``: drop cached responses of a tenant, a model, or all
(gateway-wide configuration: admins only; other instances are told through Redis)."""

from __future__ import annotations

from typing import Optional

from .._transport import Call
from ..types import CacheInvalidation
from ._base import AsyncResource, SyncResource
from ._parse import one


def _invalidate(tenant: Optional[str], model: Optional[str]) -> Call[CacheInvalidation]:
    if tenant is not None and model is not None:
        raise ValueError("invalidate one tenant or one model, not both")
    if tenant is not None:
        scope = {"scope": "tenant", "tenant": tenant}
    elif model is not None:
        scope = {"scope": "model", "model": model}
    else:
        scope = {"scope": "all"}
    # Dropping what is already gone is harmless: safe to retry.
    return Call("POST", "/admin/v1/cache/invalidate", one(CacheInvalidation), body=scope, idempotent=True)


class Cache(SyncResource):
    def invalidate(self, *, tenant: Optional[str] = None, model: Optional[str] = None) -> CacheInvalidation:
        """Drop the cached responses of ``tenant``, of ``model``, or (neither given) all."""
        return self._send(_invalidate(tenant, model))


class AsyncCache(AsyncResource):
    async def invalidate(self, *, tenant: Optional[str] = None, model: Optional[str] = None) -> CacheInvalidation:
        return await self._send(_invalidate(tenant, model))
