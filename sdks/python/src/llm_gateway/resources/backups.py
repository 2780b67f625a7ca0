"""``/admin/v1/backups``: encrypted backups of the gateway's store (docs/operations.md): take
one now into the gateway's ``[backup] dir``, list the archives there with their manifests,
or read one. Admins only. Verifying and restoring an archive are offline operations
(``gatewayctl backup verify|restore``), not API calls. Answers are the gateway's JSON
objects as dicts (``id``, ``size_bytes``, ``manifest``, ``error``)."""

from __future__ import annotations

from typing import Any, Dict, List

from .._transport import Call, segment
from ._base import AsyncResource, SyncResource
from ._parse import _object

_PATH = "/admin/v1/backups"
Json = Dict[str, Any]


def _one(data: Any, _meta: Any) -> Json:
    return dict(_object(data))


def _many(data: Any, _meta: Any) -> List[Json]:
    items = _object(data).get("data")
    return [dict(_object(item)) for item in (items or [])]


def _create() -> Call[Json]:
    return Call("POST", _PATH, _one)


def _list() -> Call[List[Json]]:
    return Call("GET", _PATH, _many)


def _get(id: str) -> Call[Json]:
    return Call("GET", f"{_PATH}/{segment(id, 'backup id')}", _one)


class Backups(SyncResource):
    def create(self) -> Json:
        """Take a backup now (a consistent snapshot of every table, encrypted)."""
        return self._send(_create())

    def list(self) -> List[Json]:
        """The archives in the gateway's backup directory, newest first."""
        return self._send(_list())

    def get(self, id: str) -> Json:
        """One archive and its manifest."""
        return self._send(_get(id))


class AsyncBackups(AsyncResource):
    async def create(self) -> Json:
        return await self._send(_create())

    async def list(self) -> List[Json]:
        return await self._send(_list())

    async def get(self, id: str) -> Json:
        return await self._send(_get(id))
