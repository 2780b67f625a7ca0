"""``GET /v1/models``: the public models the caller may use (the gateway's names)."""

from __future__ import annotations

from typing import List

from .._transport import Call
from ..types import Model
from ._base import AsyncResource, SyncResource
from ._parse import many


def _list() -> Call[List[Model]]:
    return Call("GET", "/v1/models", many(Model))


class Models(SyncResource):
    def list(self) -> List[Model]:
        return self._send(_list())


class AsyncModels(AsyncResource):
    async def list(self) -> List[Model]:
        return await self._send(_list())
