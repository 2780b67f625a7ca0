"""``/admin/v1/anomalies``: the anomalies behavioural anomaly detection raised on the
instance that answers (the last 512, newest first; docs/security.md). An admin sees every
tenant's and the gateway-wide ones (client networks, failed authentications); anyone else
with ``read_keys`` sees their own tenant's. Answers are the gateway's JSON objects as dicts
(``detected_at``, ``kind``, ``id``, ``tenant``, ``scope``, ``score``, ``action``,
``signals``). A suspended key is resumed with ``keys.resume``."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from .._transport import Call, query
from ._base import AsyncResource, SyncResource
from ._parse import _object

_PATH = "/admin/v1/anomalies"
Json = Dict[str, Any]


def _many(data: Any, _meta: Any) -> List[Json]:
    items = _object(data).get("data")
    return [dict(_object(item)) for item in (items or [])]


def _list(tenant: Optional[str], limit: Optional[int]) -> Call[List[Json]]:
    return Call("GET", _PATH, _many, params=query(tenant=tenant, limit=limit))


class Anomalies(SyncResource):
    def list(self, tenant: Optional[str] = None, limit: Optional[int] = None) -> List[Json]:
        """Recent anomalies, newest first; ``limit`` from 1 to 512 (default 100)."""
        return self._send(_list(tenant, limit))


class AsyncAnomalies(AsyncResource):
    async def list(self, tenant: Optional[str] = None, limit: Optional[int] = None) -> List[Json]:
        return await self._send(_list(tenant, limit))
