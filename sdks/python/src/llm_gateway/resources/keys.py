"""``/admin/v1/keys``: create (the secret is shown once), list, get, update, rotate, revoke,
resume (after a suspension by anomaly detection).

A key of a tenant the caller may not see answers 404 exactly like a missing one. Only an
admin may grant the ``admin`` role or change a key that holds it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .._transport import NOT_GIVEN, Call, TimeValue, _NotGiven, body, query, segment
from ..types import ApiKey, CreatedKey, Limits
from ._base import AsyncResource, SyncResource
from ._parse import many, one

LimitsArg = Union[Limits, Dict[str, Any]]
_PATH = "/admin/v1/keys"


def _path(id: str, action: str = "") -> str:
    return f"{_PATH}/{segment(id, 'key id')}{action}"


def _create(
    tenant: str,
    name: str,
    roles: Optional[Sequence[str]],
    allowed_models: Optional[Sequence[str]],
    limits: Optional[LimitsArg],
    expires_at: Optional[TimeValue],
    expires_in_days: Optional[int],
    metadata: Optional[Mapping[str, Any]],
) -> Call[CreatedKey]:
    def given(value: Any) -> Any:
        return NOT_GIVEN if value is None else value

    fields = body(
        tenant=tenant,
        name=name,
        roles=given(list(roles) if roles is not None else None),
        allowed_models=given(list(allowed_models) if allowed_models is not None else None),
        limits=given(limits),
        expires_at=given(expires_at),
        expires_in_days=given(expires_in_days),
        metadata=given(dict(metadata) if metadata is not None else None),
    )
    # Not idempotent: a retried create after the gateway acted would mint a second key.
    return Call("POST", _PATH, one(CreatedKey), body=fields)


def _update(id: str, **changes: Any) -> Call[ApiKey]:
    fields = body(**changes)
    if not fields:
        raise ValueError("update needs at least one field to change")
    return Call("PATCH", _path(id), one(ApiKey), body=fields)


def _rotate(id: str) -> Call[CreatedKey]:
    return Call("POST", _path(id, "/rotate"), one(CreatedKey), body={})


def _revoke(id: str) -> Call[ApiKey]:
    # Revoking twice is the same as once: safe to retry.
    return Call("POST", _path(id, "/revoke"), one(ApiKey), body={}, idempotent=True)


def _resume(id: str) -> Call[ApiKey]:
    # Enabling twice is the same as once: safe to retry.
    return Call("POST", _path(id, "/resume"), one(ApiKey), body={}, idempotent=True)


def _list(tenant: Optional[str]) -> Call[List[ApiKey]]:
    return Call("GET", _PATH, many(ApiKey), params=query(tenant=tenant))


class Keys(SyncResource):
    def create(
        self,
        tenant: str,
        name: str,
        *,
        roles: Optional[Sequence[str]] = None,
        allowed_models: Optional[Sequence[str]] = None,
        limits: Optional[LimitsArg] = None,
        expires_at: Optional[TimeValue] = None,
        expires_in_days: Optional[int] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> CreatedKey:
        """Issue a key. The returned ``secret`` is shown this once: store it now.

        ``roles``: ``admin``, ``tenant_admin``, ``developer`` (default), ``viewer``, ``auditor``.
        Give ``expires_at`` or ``expires_in_days``, not both.
        """
        return self._send(
            _create(tenant, name, roles, allowed_models, limits, expires_at, expires_in_days, metadata)
        )

    def list(self, tenant: Optional[str] = None) -> List[ApiKey]:
        """Keys, oldest first (an admin sees every tenant's without ``tenant``)."""
        return self._send(_list(tenant))

    def get(self, id: str) -> ApiKey:
        return self._send(Call("GET", _path(id), one(ApiKey)))

    def update(
        self,
        id: str,
        *,
        name: Union[str, _NotGiven] = NOT_GIVEN,
        roles: Union[Sequence[str], _NotGiven] = NOT_GIVEN,
        allowed_models: Union[Sequence[str], None, _NotGiven] = NOT_GIVEN,
        limits: Union[LimitsArg, _NotGiven] = NOT_GIVEN,
        expires_at: Union[TimeValue, None, _NotGiven] = NOT_GIVEN,
        metadata: Union[Mapping[str, Any], _NotGiven] = NOT_GIVEN,
        enabled: Union[bool, _NotGiven] = NOT_GIVEN,
    ) -> ApiKey:
        """Change the fields given; ``None`` clears ``allowed_models`` or ``expires_at``."""
        return self._send(
            _update(
                id,
                name=name,
                roles=roles,
                allowed_models=allowed_models,
                limits=limits,
                expires_at=expires_at,
                metadata=metadata,
                enabled=enabled,
            )
        )

    def set_limits(self, id: str, limits: LimitsArg) -> ApiKey:
        """Replace the key's limits."""
        return self.update(id, limits=limits)

    def disable(self, id: str) -> ApiKey:
        """Refuse the key until it is enabled again."""
        return self.update(id, enabled=False)

    def enable(self, id: str) -> ApiKey:
        return self.update(id, enabled=True)

    def rotate(self, id: str) -> CreatedKey:
        """A new key with the same tenant, name and settings; the old one is revoked.
        The new ``secret`` is shown this once, ``replaces`` names the old key."""
        return self._send(_rotate(id))

    def revoke(self, id: str) -> ApiKey:
        """Revoke for good (idempotent)."""
        return self._send(_revoke(id))

    def resume(self, id: str) -> ApiKey:
        """Enable the key again after anomaly detection suspended it (or it was disabled);
        a revoked key stays revoked (400)."""
        return self._send(_resume(id))


class AsyncKeys(AsyncResource):
    async def create(
        self,
        tenant: str,
        name: str,
        *,
        roles: Optional[Sequence[str]] = None,
        allowed_models: Optional[Sequence[str]] = None,
        limits: Optional[LimitsArg] = None,
        expires_at: Optional[TimeValue] = None,
        expires_in_days: Optional[int] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> CreatedKey:
        return await self._send(
            _create(tenant, name, roles, allowed_models, limits, expires_at, expires_in_days, metadata)
        )

    async def list(self, tenant: Optional[str] = None) -> List[ApiKey]:
        return await self._send(_list(tenant))

    async def get(self, id: str) -> ApiKey:
        return await self._send(Call("GET", _path(id), one(ApiKey)))

    async def update(
        self,
        id: str,
        *,
        name: Union[str, _NotGiven] = NOT_GIVEN,
        roles: Union[Sequence[str], _NotGiven] = NOT_GIVEN,
        allowed_models: Union[Sequence[str], None, _NotGiven] = NOT_GIVEN,
        limits: Union[LimitsArg, _NotGiven] = NOT_GIVEN,
        expires_at: Union[TimeValue, None, _NotGiven] = NOT_GIVEN,
        metadata: Union[Mapping[str, Any], _NotGiven] = NOT_GIVEN,
        enabled: Union[bool, _NotGiven] = NOT_GIVEN,
    ) -> ApiKey:
        return await self._send(
            _update(
                id,
                name=name,
                roles=roles,
                allowed_models=allowed_models,
                limits=limits,
                expires_at=expires_at,
                metadata=metadata,
                enabled=enabled,
            )
        )

    async def set_limits(self, id: str, limits: LimitsArg) -> ApiKey:
        return await self.update(id, limits=limits)

    async def disable(self, id: str) -> ApiKey:
        return await self.update(id, enabled=False)

    async def enable(self, id: str) -> ApiKey:
        return await self.update(id, enabled=True)

    async def rotate(self, id: str) -> CreatedKey:
        return await self._send(_rotate(id))

    async def revoke(self, id: str) -> ApiKey:
        return await self._send(_revoke(id))

    async def resume(self, id: str) -> ApiKey:
        return await self._send(_resume(id))
