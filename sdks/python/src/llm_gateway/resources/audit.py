"""``/admin/v1/audit``: the tamper-evident log of admin changes, by page or as an iterator,
and ``/admin/v1/audit/verify``, which re-computes the hash chain (admins only).
"""

from __future__ import annotations

from typing import AsyncIterator, Iterator, Optional

from .._transport import Call, TimeValue, query, time_param
from ..types import AuditPage, AuditRecord, AuditVerification
from ._base import AsyncResource, SyncResource
from ._parse import one

#: Most records the gateway returns in one page.
MAX_PAGE = 1000


def _list(
    tenant: Optional[str],
    actor: Optional[str],
    action: Optional[str],
    start: Optional[TimeValue],
    end: Optional[TimeValue],
    after: Optional[int],
    limit: Optional[int],
    order: Optional[str],
) -> Call[AuditPage]:
    if order not in (None, "oldest", "newest"):
        raise ValueError("order is 'oldest' or 'newest'")
    params = query(
        tenant=tenant,
        actor=actor,
        action=action,
        from_=time_param(start) if start is not None else None,
        to=time_param(end) if end is not None else None,
        after=after,
        limit=limit,
        order=order,
    )
    return Call("GET", "/admin/v1/audit", one(AuditPage), params=params)


def _verify() -> Call[AuditVerification]:
    return Call("GET", "/admin/v1/audit/verify", one(AuditVerification))


class Audit(SyncResource):
    def list(
        self,
        *,
        tenant: Optional[str] = None,
        actor: Optional[str] = None,
        action: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        after: Optional[int] = None,
        limit: Optional[int] = None,
        order: Optional[str] = None,
    ) -> AuditPage:
        """One page (``limit`` 1-1000, default 100), oldest first unless ``order="newest"``.

        Filters: ``tenant``, ``actor`` (key id, JWT subject or ``admin-token``), ``action``
        (``key.create``, ...), ``start``/``end``; ``after`` is a page's ``next_after``.
        """
        return self._send(_list(tenant, actor, action, start, end, after, limit, order))

    def iter(
        self,
        *,
        tenant: Optional[str] = None,
        actor: Optional[str] = None,
        action: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        after: Optional[int] = None,
        page_size: int = 100,
    ) -> Iterator[AuditRecord]:
        """Every matching record, oldest first, fetching pages of ``page_size`` as it goes."""
        while True:
            page = self.list(
                tenant=tenant, actor=actor, action=action, start=start, end=end, after=after, limit=page_size
            )
            yield from page.records
            if page.next_after is None:
                return
            after = page.next_after

    def verify(self) -> AuditVerification:
        """Re-compute the whole hash chain: ``intact``, ``checked``, ``first_broken_seq``."""
        return self._send(_verify())


class AsyncAudit(AsyncResource):
    async def list(
        self,
        *,
        tenant: Optional[str] = None,
        actor: Optional[str] = None,
        action: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        after: Optional[int] = None,
        limit: Optional[int] = None,
        order: Optional[str] = None,
    ) -> AuditPage:
        return await self._send(_list(tenant, actor, action, start, end, after, limit, order))

    async def iter(
        self,
        *,
        tenant: Optional[str] = None,
        actor: Optional[str] = None,
        action: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        after: Optional[int] = None,
        page_size: int = 100,
    ) -> AsyncIterator[AuditRecord]:
        """``async for record in gw.audit.iter(...)``: every matching record, oldest first."""
        while True:
            page = await self.list(
                tenant=tenant, actor=actor, action=action, start=start, end=end, after=after, limit=page_size
            )
            for record in page.records:
                yield record
            if page.next_after is None:
                return
            after = page.next_after

    async def verify(self) -> AuditVerification:
        return await self._send(_verify())
