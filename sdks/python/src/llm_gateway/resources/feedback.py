"""Feedback on calls: ``POST /v1/feedback`` (a caller rates one of its own calls, with a
gateway API key) and, for operators, ``GET /admin/v1/feedback`` (list) and
``GET /admin/v1/feedback/summary`` (aggregates per model, deployment and task type).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

from .._transport import Call, TimeValue, names, query, time_param
from ..types import parse_time
from ._base import AsyncResource, SyncResource
from ._parse import many, one

Json = Dict[str, Any]
Score = Union[float, int, str]
"""A number from 0 to 1, or ``"up"`` (1) / ``"down"`` (0)."""

__all__ = ["Feedback", "AsyncFeedback", "FeedbackRecord", "FeedbackSummary", "FeedbackSummaryRow"]


def _opt_float(value: Any) -> Optional[float]:
    return float(value) if value is not None else None


@dataclass(frozen=True)
class FeedbackRecord:
    """One stored feedback, with what the rated call's usage record says about it."""

    tenant: str
    request_id: str
    subject: str
    created_at: Optional[datetime]
    score: float
    tags: List[str]
    comment: Optional[str]
    model: str
    provider: Optional[str]
    upstream_model: Optional[str]
    task: Optional[str]
    quality: Optional[float]
    """The heuristic quality score of the rated answer."""
    route_reason: Optional[str]
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Json) -> "FeedbackRecord":
        return cls(
            tenant=str(data.get("tenant", "")),
            request_id=str(data.get("request_id", "")),
            subject=str(data.get("subject", "")),
            created_at=parse_time(data.get("created_at")),
            score=float(data.get("score") or 0.0),
            tags=[str(t) for t in data.get("tags") or []],
            comment=data.get("comment"),
            model=str(data.get("model", "")),
            provider=data.get("provider"),
            upstream_model=data.get("upstream_model"),
            task=data.get("task"),
            quality=_opt_float(data.get("quality")),
            route_reason=data.get("route_reason"),
            raw=data,
        )


@dataclass(frozen=True)
class FeedbackSummaryRow:
    """One group: the grouped fields (others ``None``) and the aggregates."""

    tenant: Optional[str]
    model: Optional[str]
    provider: Optional[str]
    upstream_model: Optional[str]
    task: Optional[str]
    count: int
    avg_score: float
    positive: int
    negative: int
    avg_quality: Optional[float]
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Json) -> "FeedbackSummaryRow":
        return cls(
            tenant=data.get("tenant"),
            model=data.get("model"),
            provider=data.get("provider"),
            upstream_model=data.get("upstream_model"),
            task=data.get("task"),
            count=int(data.get("count") or 0),
            avg_score=float(data.get("avg_score") or 0.0),
            positive=int(data.get("positive") or 0),
            negative=int(data.get("negative") or 0),
            avg_quality=_opt_float(data.get("avg_quality")),
            raw=data,
        )


@dataclass(frozen=True)
class FeedbackSummary:
    rows: List[FeedbackSummaryRow]
    group_by: List[str]

    def __iter__(self) -> Iterator[FeedbackSummaryRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def from_dict(cls, data: Json) -> "FeedbackSummary":
        return cls(
            rows=[FeedbackSummaryRow.from_dict(r) for r in data.get("data") or []],
            group_by=[str(g) for g in data.get("group_by") or []],
        )


def _give(request_id: str, score: Score, tags: Optional[Sequence[str]], comment: Optional[str]) -> Call[FeedbackRecord]:
    if isinstance(score, bool) or not isinstance(score, (int, float, str)):
        raise TypeError("score is a number from 0 to 1, or 'up' / 'down'")
    fields: Json = {"request_id": request_id, "score": score}
    if tags is not None:
        fields["tags"] = list(tags)
    if comment is not None:
        fields["comment"] = comment
    # Giving it again replaces it: safe to retry.
    return Call("POST", "/v1/feedback", one(FeedbackRecord), body=fields, idempotent=True)


def _filters(
    tenant: Optional[str],
    model: Optional[str],
    provider: Optional[str],
    task: Optional[str],
    start: Optional[TimeValue],
    end: Optional[TimeValue],
) -> Dict[str, str]:
    return query(
        tenant=tenant,
        model=model,
        provider=provider,
        task=task,
        from_=time_param(start) if start is not None else None,
        to=time_param(end) if end is not None else None,
    )


def _list(filters: Dict[str, str], limit: Optional[int]) -> Call[List[FeedbackRecord]]:
    params = dict(filters)
    if limit is not None:
        params["limit"] = str(limit)
    return Call("GET", "/admin/v1/feedback", many(FeedbackRecord), params=params)


def _summary(filters: Dict[str, str], group_by: Union[str, Sequence[str], None]) -> Call[FeedbackSummary]:
    params = dict(filters)
    grouped = names(group_by)
    if grouped is not None:
        params["group_by"] = grouped
    return Call("GET", "/admin/v1/feedback/summary", one(FeedbackSummary), params=params)


class Feedback(SyncResource):
    def give(
        self, request_id: str, score: Score, *, tags: Optional[Sequence[str]] = None, comment: Optional[str] = None
    ) -> FeedbackRecord:
        """Rate the caller's call ``request_id`` (its ``x-request-id``); 404 for another tenant's."""
        return self._send(_give(request_id, score, tags, comment))

    def list(
        self,
        *,
        tenant: Optional[str] = None,
        model: Optional[str] = None,
        provider: Optional[str] = None,
        task: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        limit: Optional[int] = None,
    ) -> List[FeedbackRecord]:
        """Feedback given, newest first (needs ``read_usage``)."""
        return self._send(_list(_filters(tenant, model, provider, task, start, end), limit))

    def summary(
        self,
        *,
        tenant: Optional[str] = None,
        model: Optional[str] = None,
        provider: Optional[str] = None,
        task: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        group_by: Union[str, Sequence[str], None] = None,
    ) -> FeedbackSummary:
        """Aggregates per ``group_by`` (``tenant``, ``model``, ``deployment``, ``task``; default model,task)."""
        return self._send(_summary(_filters(tenant, model, provider, task, start, end), group_by))


class AsyncFeedback(AsyncResource):
    async def give(
        self, request_id: str, score: Score, *, tags: Optional[Sequence[str]] = None, comment: Optional[str] = None
    ) -> FeedbackRecord:
        return await self._send(_give(request_id, score, tags, comment))

    async def list(
        self,
        *,
        tenant: Optional[str] = None,
        model: Optional[str] = None,
        provider: Optional[str] = None,
        task: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        limit: Optional[int] = None,
    ) -> List[FeedbackRecord]:
        return await self._send(_list(_filters(tenant, model, provider, task, start, end), limit))

    async def summary(
        self,
        *,
        tenant: Optional[str] = None,
        model: Optional[str] = None,
        provider: Optional[str] = None,
        task: Optional[str] = None,
        start: Optional[TimeValue] = None,
        end: Optional[TimeValue] = None,
        group_by: Union[str, Sequence[str], None] = None,
    ) -> FeedbackSummary:
        return await self._send(_summary(_filters(tenant, model, provider, task, start, end), group_by))
