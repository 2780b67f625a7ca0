"""``/admin/v1/tenants``: create, list, get, update (enable, disable, limits), delete.

Creating, changing and deleting tenants is for admins; a tenant admin reads its own tenant.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

from .._transport import NOT_GIVEN, Call, _NotGiven, body, segment
from ..types import Deleted, Limits, Tenant
from ._base import AsyncResource, SyncResource
from ._parse import many, one

LimitsArg = Union[Limits, Dict[str, Any]]
_PATH = "/admin/v1/tenants"


def _create(
    id: str,
    name: Optional[str],
    enabled: Optional[bool],
    allowed_models: Optional[Sequence[str]],
    allowed_regions: Optional[Sequence[str]],
    limits: Optional[LimitsArg],
) -> Call[Tenant]:
    fields = body(
        id=id,
        name=name if name is not None else NOT_GIVEN,
        enabled=enabled if enabled is not None else NOT_GIVEN,
        allowed_models=list(allowed_models) if allowed_models is not None else NOT_GIVEN,
        allowed_regions=list(allowed_regions) if allowed_regions is not None else NOT_GIVEN,
        limits=limits if limits is not None else NOT_GIVEN,
    )
    return Call("POST", _PATH, one(Tenant), body=fields)


def _update(id: str, **changes: Any) -> Call[Tenant]:
    fields = body(**changes)
    if not fields:
        raise ValueError("update needs at least one field to change")
    return Call("PATCH", f"{_PATH}/{segment(id, 'tenant id')}", one(Tenant), body=fields)


class Tenants(SyncResource):
    def create(
        self,
        id: str,
        *,
        name: Optional[str] = None,
        enabled: Optional[bool] = None,
        allowed_models: Optional[Sequence[str]] = None,
        allowed_regions: Optional[Sequence[str]] = None,
        limits: Optional[LimitsArg] = None,
    ) -> Tenant:
        """Create a tenant (``id``: 1-64 letters, digits, ``-``, ``_``, ``.``).

        Raises :class:`~llm_gateway.errors.ConflictError` when the id is taken.
        """
        return self._send(_create(id, name, enabled, allowed_models, allowed_regions, limits))

    def list(self) -> List[Tenant]:
        """Every tenant (an admin), or the caller's own."""
        return self._send(Call("GET", _PATH, many(Tenant)))

    def get(self, id: str) -> Tenant:
        return self._send(Call("GET", f"{_PATH}/{segment(id, 'tenant id')}", one(Tenant)))

    def update(
        self,
        id: str,
        *,
        name: Union[str, _NotGiven] = NOT_GIVEN,
        enabled: Union[bool, _NotGiven] = NOT_GIVEN,
        allowed_models: Union[Sequence[str], None, _NotGiven] = NOT_GIVEN,
        allowed_regions: Union[Sequence[str], None, _NotGiven] = NOT_GIVEN,
        limits: Union[LimitsArg, _NotGiven] = NOT_GIVEN,
    ) -> Tenant:
        """Change the fields given; ``None`` clears a list; ``limits`` replaces all limits."""
        return self._send(
            _update(
                id,
                name=name,
                enabled=enabled,
                allowed_models=allowed_models,
                allowed_regions=allowed_regions,
                limits=limits,
            )
        )

    def set_limits(self, id: str, limits: LimitsArg) -> Tenant:
        """Replace the tenant's limits (rates, tokens, concurrency, budgets)."""
        return self.update(id, limits=limits)

    def disable(self, id: str) -> Tenant:
        """Refuse every key of the tenant (and JWTs naming it) at once."""
        return self.update(id, enabled=False)

    def enable(self, id: str) -> Tenant:
        return self.update(id, enabled=True)

    def delete(self, id: str) -> Deleted:
        """Delete the tenant and its keys; its usage and audit records are kept."""
        return self._send(Call("DELETE", f"{_PATH}/{segment(id, 'tenant id')}", one(Deleted)))


class AsyncTenants(AsyncResource):
    async def create(
        self,
        id: str,
        *,
        name: Optional[str] = None,
        enabled: Optional[bool] = None,
        allowed_models: Optional[Sequence[str]] = None,
        allowed_regions: Optional[Sequence[str]] = None,
        limits: Optional[LimitsArg] = None,
    ) -> Tenant:
        return await self._send(_create(id, name, enabled, allowed_models, allowed_regions, limits))

    async def list(self) -> List[Tenant]:
        return await self._send(Call("GET", _PATH, many(Tenant)))

    async def get(self, id: str) -> Tenant:
        return await self._send(Call("GET", f"{_PATH}/{segment(id, 'tenant id')}", one(Tenant)))

    async def update(
        self,
        id: str,
        *,
        name: Union[str, _NotGiven] = NOT_GIVEN,
        enabled: Union[bool, _NotGiven] = NOT_GIVEN,
        allowed_models: Union[Sequence[str], None, _NotGiven] = NOT_GIVEN,
        allowed_regions: Union[Sequence[str], None, _NotGiven] = NOT_GIVEN,
        limits: Union[LimitsArg, _NotGiven] = NOT_GIVEN,
    ) -> Tenant:
        return await self._send(
            _update(
                id,
                name=name,
                enabled=enabled,
                allowed_models=allowed_models,
                allowed_regions=allowed_regions,
                limits=limits,
            )
        )

    async def set_limits(self, id: str, limits: LimitsArg) -> Tenant:
        return await self.update(id, limits=limits)

    async def disable(self, id: str) -> Tenant:
        return await self.update(id, enabled=False)

    async def enable(self, id: str) -> Tenant:
        return await self.update(id, enabled=True)

    async def delete(self, id: str) -> Deleted:
        return await self._send(Call("DELETE", f"{_PATH}/{segment(id, 'tenant id')}", one(Deleted)))
