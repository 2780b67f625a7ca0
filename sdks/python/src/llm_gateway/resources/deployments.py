"""``/admin/v1/deployments``: each deployment's circuit, latency and load, as the router
sees it now (any caller allowed to read usage)."""

from __future__ import annotations

from typing import List

from .._transport import Call
from ..types import Deployment
from ._base import AsyncResource, SyncResource
from ._parse import many


def _list() -> Call[List[Deployment]]:
    return Call("GET", "/admin/v1/deployments", many(Deployment))


class Deployments(SyncResource):
    def list(self) -> List[Deployment]:
        return self._send(_list())


class AsyncDeployments(AsyncResource):
    async def list(self) -> List[Deployment]:
        return await self._send(_list())
