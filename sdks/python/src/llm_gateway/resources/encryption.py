"""Key management of the encryption of stored content (docs/security.md): a tenant's
data-key status (``GET /admin/v1/tenants/{id}/encryption``), rotating its data key
(``.../rotate``), re-encrypting its stored content with the current key (``.../reencrypt``),
re-wrapping every data key under the current KEK after a KEK change
(``POST /admin/v1/encryption/rewrap``), and opening sealed content-log fields
(``.../open``, admins only, audited). Status needs ``read_keys`` on the tenant, rotate and
re-encrypt ``manage_keys`` (a tenant admin may, for its own tenant); rewrap and open are for
admins. Answers are the gateway's JSON objects as dicts."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from .._transport import Call, segment
from ._base import AsyncResource, SyncResource
from ._parse import _object

Json = Dict[str, Any]


def _one(data: Any, _meta: Any) -> Json:
    return dict(_object(data))


def _many(data: Any, _meta: Any) -> List[Json]:
    items = _object(data).get("data")
    return [dict(_object(item)) for item in (items or [])]


def _tenant(tenant: str, action: str = "") -> str:
    return f"/admin/v1/tenants/{segment(tenant, 'tenant id')}/encryption{action}"


def _status(tenant: str) -> Call[Json]:
    return Call("GET", _tenant(tenant), _one)


def _rotate(tenant: str) -> Call[Json]:
    return Call("POST", _tenant(tenant, "/rotate"), _one)


def _reencrypt(tenant: str) -> Call[Json]:
    # Sealing again what is already under the current key changes nothing: safe to retry.
    return Call("POST", _tenant(tenant, "/reencrypt"), _one, idempotent=True)


def _rewrap() -> Call[Json]:
    return Call("POST", "/admin/v1/encryption/rewrap", _one, idempotent=True)


def _open(tenant: str, values: Sequence[str]) -> Call[List[Json]]:
    if isinstance(values, str):
        raise TypeError("values is a list of sealed strings, not one string")
    return Call("POST", _tenant(tenant, "/open"), _many, body={"values": list(values)}, idempotent=True)


class Encryption(SyncResource):
    def status(self, tenant: str) -> Json:
        """The tenant's data-key versions and the KEK wrapping each (never key material)."""
        return self._send(_status(tenant))

    def rotate(self, tenant: str) -> Json:
        """A new data-key version for the tenant's new writes; older content stays readable."""
        return self._send(_rotate(tenant))

    def reencrypt(self, tenant: str) -> Json:
        """Seal the tenant's stored content again with its current key; ``reencrypted`` holds
        the counts (``resealed``, ``current``)."""
        return self._send(_reencrypt(tenant))

    def rewrap(self) -> Json:
        """Re-wrap every data key under the current KEK (``kek_id``, ``rewrapped``,
        ``already_current``)."""
        return self._send(_rewrap())

    def open(self, tenant: str, values: Sequence[str]) -> List[Json]:
        """Open sealed content-log fields (``gwe1:...``, at most 100): one dict per value, in
        order, with ``status`` ``opened`` (and ``plaintext``), ``destroyed`` or ``invalid``."""
        return self._send(_open(tenant, values))


class AsyncEncryption(AsyncResource):
    async def status(self, tenant: str) -> Json:
        return await self._send(_status(tenant))

    async def rotate(self, tenant: str) -> Json:
        return await self._send(_rotate(tenant))

    async def reencrypt(self, tenant: str) -> Json:
        return await self._send(_reencrypt(tenant))

    async def rewrap(self) -> Json:
        return await self._send(_rewrap())

    async def open(self, tenant: str, values: Sequence[str]) -> List[Json]:
        return await self._send(_open(tenant, values))
