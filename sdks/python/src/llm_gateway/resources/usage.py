"""``/admin/v1/usage``: usage and cost aggregated by tenant, key, model and/or day.

The gateway answers a whole report at once (it aggregates; there are no pages); ``csv``
writes the same report as CSV for spreadsheets.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

from .._transport import Call, TimeValue, names, query, time_param
from ..types import UsageReport
from ._base import AsyncResource, SyncResource
from ._parse import one

GroupBy = Union[str, Sequence[str], None]
"""``tenant``, ``key``, ``model``, ``day``: a comma-separated string or a sequence."""


def _report(
    tenant: Optional[str],
    key: Optional[str],
    model: Optional[str],
    start: Optional[TimeValue],
    end: Optional[TimeValue],
    group_by: GroupBy,
) -> Call[UsageReport]:
    params = query(
        tenant=tenant,
        key=key,
        model=model,
        from_=time_param(start) if start is not None else None,
        to=time_param(end) if end is not None else None,
        group_by=names(group_by),
    )
    return Call("GET", "/admin/v1/usage", one(UsageReport), params=params)


class Usage(SyncResource):
    def report(
        self,
        *,
        tenant: Optional[str] = None,
        key: Optional[str] = None,
        model: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        group_by: GroupBy = None,
    ) -> UsageReport:
        """Usage from ``start`` (inclusive) to ``end`` (exclusive; a date includes that day).

        Filters: ``tenant``, ``key`` (a key id or JWT subject), ``model``.
        """
        return self._send(_report(tenant, key, model, start, end, group_by))

    def csv(
        self,
        *,
        tenant: Optional[str] = None,
        key: Optional[str] = None,
        model: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        group_by: GroupBy = None,
    ) -> str:
        """The same report as CSV: the grouped fields, then the totals."""
        return self.report(tenant=tenant, key=key, model=model, start=start, end=end, group_by=group_by).to_csv()


class AsyncUsage(AsyncResource):
    async def report(
        self,
        *,
        tenant: Optional[str] = None,
        key: Optional[str] = None,
        model: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        group_by: GroupBy = None,
    ) -> UsageReport:
        return await self._send(_report(tenant, key, model, start, end, group_by))

    async def csv(
        self,
        *,
        tenant: Optional[str] = None,
        key: Optional[str] = None,
        model: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        group_by: GroupBy = None,
    ) -> str:
        report = await self.report(tenant=tenant, key=key, model=model, start=start, end=end, group_by=group_by)
        return report.to_csv()
