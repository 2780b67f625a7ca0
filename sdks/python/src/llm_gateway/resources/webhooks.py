"""``/admin/v1/webhooks``: a tenant's signed webhook endpoints (docs/webhooks.md): create (the
signing secret is shown once), list, get, update, delete, rotate the secret, the delivery log
of an endpoint, and manual redelivery. Answers are the gateway's JSON objects as dicts."""

from __future__ import annotations

from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Sequence, Union

from .._transport import NOT_GIVEN, Call, _NotGiven, body, query, segment
from ._base import AsyncResource, SyncResource
from ._parse import _object

_PATH = "/admin/v1/webhooks"
Json = Dict[str, Any]


def _one(data: Any, _meta: Any) -> Json:
    return dict(_object(data))


def _many(data: Any, _meta: Any) -> List[Json]:
    items = _object(data).get("data")
    return [dict(_object(item)) for item in (items or [])]


def _path(id: str, action: str = "") -> str:
    return f"{_PATH}/{segment(id, 'webhook id')}{action}"


def _create(tenant: str, url: str, events: Sequence[str], description: Optional[str]) -> Call[Json]:
    fields = body(
        tenant=tenant,
        url=url,
        events=list(events),
        description=NOT_GIVEN if description is None else description,
    )
    return Call("POST", _PATH, _one, body=fields)


def _update(id: str, **changes: Any) -> Call[Json]:
    fields = body(**changes)
    if not fields:
        raise ValueError("update needs at least one field to change")
    if "events" in fields:
        fields["events"] = list(fields["events"])
    return Call("PATCH", _path(id), _one, body=fields)


def _deliveries(id: str, before: Optional[str], limit: Optional[int]) -> Call[List[Json]]:
    return Call("GET", _path(id, "/deliveries"), _many, params=query(before=before, limit=limit))


def _check_page_size(page_size: int) -> None:
    if not 1 <= page_size <= 100:
        raise ValueError("page_size must be between 1 and 100")


def _redeliver(delivery_id: str) -> Call[Json]:
    path = f"{_PATH}/deliveries/{segment(delivery_id, 'delivery id')}/redeliver"
    return Call("POST", path, _one, body={})


class Webhooks(SyncResource):
    def create(self, tenant: str, url: str, events: Sequence[str], *, description: Optional[str] = None) -> Json:
        """Register an endpoint; the answer's ``secret`` (``whsec_...``) is shown this once."""
        return self._send(_create(tenant, url, events, description))

    def list(self, tenant: Optional[str] = None) -> List[Json]:
        return self._send(Call("GET", _PATH, _many, params=query(tenant=tenant)))

    def get(self, id: str) -> Json:
        return self._send(Call("GET", _path(id), _one))

    def update(
        self,
        id: str,
        *,
        url: Union[str, _NotGiven] = NOT_GIVEN,
        events: Union[Sequence[str], _NotGiven] = NOT_GIVEN,
        description: Union[str, _NotGiven] = NOT_GIVEN,
        enabled: Union[bool, _NotGiven] = NOT_GIVEN,
    ) -> Json:
        return self._send(_update(id, url=url, events=events, description=description, enabled=enabled))

    def delete(self, id: str) -> Json:
        return self._send(Call("DELETE", _path(id), _one))

    def rotate_secret(self, id: str) -> Json:
        """A new secret; the old one keeps signing for the configured overlap."""
        return self._send(Call("POST", _path(id, "/rotate-secret"), _one, body={}))

    def deliveries(self, id: str, *, before: Optional[str] = None, limit: Optional[int] = None) -> List[Json]:
        """The endpoint's deliveries, newest first, each with its attempts."""
        return self._send(_deliveries(id, before, limit))

    def iter_deliveries(self, id: str, *, page_size: int = 100) -> Iterator[Json]:
        """Every delivery of the endpoint, newest first, fetched ``page_size`` at a time."""
        _check_page_size(page_size)
        before: Optional[str] = None
        while True:
            page = self.deliveries(id, before=before, limit=page_size)
            yield from page
            if len(page) < page_size:
                return
            before = str(page[-1]["id"])

    def redeliver(self, delivery_id: str) -> Json:
        return self._send(_redeliver(delivery_id))


class AsyncWebhooks(AsyncResource):
    async def create(
        self, tenant: str, url: str, events: Sequence[str], *, description: Optional[str] = None
    ) -> Json:
        return await self._send(_create(tenant, url, events, description))

    async def list(self, tenant: Optional[str] = None) -> List[Json]:
        return await self._send(Call("GET", _PATH, _many, params=query(tenant=tenant)))

    async def get(self, id: str) -> Json:
        return await self._send(Call("GET", _path(id), _one))

    async def update(
        self,
        id: str,
        *,
        url: Union[str, _NotGiven] = NOT_GIVEN,
        events: Union[Sequence[str], _NotGiven] = NOT_GIVEN,
        description: Union[str, _NotGiven] = NOT_GIVEN,
        enabled: Union[bool, _NotGiven] = NOT_GIVEN,
    ) -> Json:
        return await self._send(_update(id, url=url, events=events, description=description, enabled=enabled))

    async def delete(self, id: str) -> Json:
        return await self._send(Call("DELETE", _path(id), _one))

    async def rotate_secret(self, id: str) -> Json:
        return await self._send(Call("POST", _path(id, "/rotate-secret"), _one, body={}))

    async def deliveries(self, id: str, *, before: Optional[str] = None, limit: Optional[int] = None) -> List[Json]:
        return await self._send(_deliveries(id, before, limit))

    async def iter_deliveries(self, id: str, *, page_size: int = 100) -> AsyncIterator[Json]:
        """Every delivery of the endpoint, newest first, fetched ``page_size`` at a time."""
        _check_page_size(page_size)
        before: Optional[str] = None
        while True:
            page = await self.deliveries(id, before=before, limit=page_size)
            for item in page:
                yield item
            if len(page) < page_size:
                return
            before = str(page[-1]["id"])

    async def redeliver(self, delivery_id: str) -> Json:
        return await self._send(_redeliver(delivery_id))
