"""Asynchronous calls (docs/async.md): a model call sent with ``Prefer: respond-async`` is
answered at once with a job, and its answer waits at ``GET /v1/async/{id}``::

    job = gw.async_calls.submit("/v1/chat/completions", {"model": "demo", "messages": msgs})
    done = gw.async_calls.wait(job.id, timeout=120)      # polls until answered, at most 120 s
    done.body["choices"][0]["message"]["content"], done.metadata.provider

``run`` is ``submit`` then ``wait``. Polling is bounded: ``wait`` gives up after ``timeout``
seconds with :class:`AsyncCallTimeoutError` (the job goes on; wait again or cancel it). Once
the call ran, its answer is what the synchronous call would have given: a success is
returned, an error answer is raised as the same typed error (a guardrail's 422 as
:class:`~llm_gateway.PolicyViolationError`, a limit's 429 as
:class:`~llm_gateway.RateLimitError`, a ``failed`` job as the gateway's 502), never retried:
it is the call's final answer.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Mapping, Optional

from .._transport import Call, segment
from ..errors import APIStatusError, GatewayError
from ..metadata import ResponseMetadata
from ._base import AsyncResource, SyncResource
from ._parse import _object

__all__ = ["AsyncJob", "AsyncResult", "AsyncCallTimeoutError", "AsyncCalls", "AsyncAsyncCalls"]

Json = Dict[str, Any]
_PATH = "/v1/async"
#: Job states in which the call has not been answered yet.
_WAITING = frozenset({"pending", "running"})


class AsyncCallTimeoutError(GatewayError):
    """``wait`` gave up: the job was still ``status`` after ``timeout`` seconds."""

    def __init__(self, job_id: str, status: str, timeout: float) -> None:
        super().__init__(f"async call {job_id} was still {status} after {timeout:g} s")
        self.job_id = job_id
        self.status = status
        self.timeout = timeout


def _unix(value: Any) -> Optional[datetime]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return datetime.fromtimestamp(value, tz=timezone.utc)


@dataclass(frozen=True)
class AsyncJob:
    """The job object (``"object": "async.job"``) of an async call."""

    id: str
    status: str
    """``pending``, ``running``, ``completed``, ``failed`` or ``cancelled``."""
    route: str
    """The model-call route it was sent to (``/v1/chat/completions``, ...)."""
    created_at: Optional[datetime]
    completed_at: Optional[datetime]
    retried: bool
    """Whether the call was sent again after an instance stopped with it in flight."""
    callback_url: Optional[str]
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AsyncJob":
        return cls(
            id=str(data.get("id", "")),
            status=str(data.get("status", "")),
            route=str(data.get("route", "")),
            created_at=_unix(data.get("created_at")),
            completed_at=_unix(data.get("completed_at")),
            retried=bool(data.get("retried", False)),
            callback_url=data.get("callback_url"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class AsyncResult:
    """What ``GET /v1/async/{id}`` answered.

    Attributes:
        id: the job id.
        status: the job's state (``x-gateway-async-status``).
        job: the job object while it waits or runs, and once cancelled; ``None`` once answered.
        body: the call's answer once ``completed`` (a chat completion, an Anthropic message,
            ...), else ``None``.
        metadata: the answer's gateway headers (provider, attempts, cache, rate limits, ...).
    """

    id: str
    status: str
    job: Optional[AsyncJob]
    body: Any
    metadata: ResponseMetadata

    @property
    def done(self) -> bool:
        """Whether the call has its final answer (or was cancelled)."""
        return self.status not in _WAITING

    @property
    def retried(self) -> bool:
        return self.metadata.headers.get("x-gateway-async-retried") == "true" or bool(self.job and self.job.retried)


def _job(data: Any, _meta: ResponseMetadata) -> AsyncJob:
    return AsyncJob.from_dict(_object(data))


def _submitted(data: Any, meta: ResponseMetadata) -> AsyncJob:
    applied = meta.headers.get("preference-applied", "")
    if "respond-async" not in applied.lower():
        # A gateway without a store (the edge profile) runs the call at once instead.
        raise GatewayError(
            "the gateway answered the call synchronously (it keeps no async jobs: edge profile); "
            f"request id {meta.request_id}"
        )
    return _job(data, meta)


def _result(job_id: str) -> Callable[[Any, ResponseMetadata], AsyncResult]:
    def parse(data: Any, meta: ResponseMetadata) -> AsyncResult:
        status = meta.headers.get("x-gateway-async-status", "")
        if status in _WAITING or status == "cancelled":
            job = AsyncJob.from_dict(_object(data))
            return AsyncResult(id=job_id, status=status, job=job, body=None, metadata=meta)
        return AsyncResult(id=job_id, status=status or "completed", job=None, body=data, metadata=meta)

    return parse


def _final(err: APIStatusError) -> bool:
    """A status error may be retried only when it is not the job's recorded answer."""
    return "x-gateway-async-status" not in err.headers


def _submit(path: str, body: Any, callback_url: Optional[str], headers: Optional[Mapping[str, str]]) -> Call[AsyncJob]:
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"path must be a model-call route such as '/v1/chat/completions', got {path!r}")
    sent = {k.lower(): v for k, v in (headers or {}).items()}
    sent["prefer"] = "respond-async"
    if callback_url is not None:
        sent["x-gateway-callback-url"] = callback_url
    return Call("POST", path, _submitted, body=body, headers=sent)


def _get(job_id: str) -> Call[AsyncResult]:
    return Call("GET", f"{_PATH}/{segment(job_id, 'async job id')}", _result(job_id), retry_status=_final)


def _cancel(job_id: str) -> Call[AsyncJob]:
    return Call("DELETE", f"{_PATH}/{segment(job_id, 'async job id')}", _job)


def _bounds(timeout: float, poll_interval: float) -> None:
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError("timeout must be a positive number of seconds")
    if not (poll_interval > 0 and math.isfinite(poll_interval)):
        raise ValueError("poll_interval must be a positive number of seconds")


def _pause(result: AsyncResult, poll_interval: float, remaining: float) -> float:
    """The wait before the next poll: the gateway's ``retry-after`` when it asks for longer
    than ``poll_interval``, never past the deadline."""
    asked = result.metadata.retry_after or 0.0
    return max(0.0, min(max(poll_interval, asked), remaining))


class AsyncCalls(SyncResource):
    def submit(
        self,
        path: str,
        body: Any,
        *,
        callback_url: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> AsyncJob:
        """Send a model call (``path``: ``/v1/chat/completions``, ``/v1/embeddings``,
        ``/v1/messages``, ``/query``, ...) with ``Prefer: respond-async``; returns its job.

        ``callback_url`` (``x-gateway-callback-url``) names one of the tenant's webhook
        endpoints to receive the ``async.completed`` event. A bad request is refused at once
        with its typed error, and no job is made.
        """
        return self._send(_submit(path, body, callback_url, headers))

    def get(self, id: str) -> AsyncResult:
        """One look at the job: waiting (``done`` is false), or its answer. An error answer
        of the call is raised as its typed error."""
        return self._send(_get(id))

    def cancel(self, id: str) -> AsyncJob:
        """Cancel a ``pending`` job (one that started or ended cannot be: 400)."""
        return self._send(_cancel(id))

    def wait(self, id: str, *, timeout: float = 60.0, poll_interval: float = 1.0) -> AsyncResult:
        """Poll until the job is answered or cancelled, at most ``timeout`` seconds (then
        :class:`AsyncCallTimeoutError`); between polls ``poll_interval`` seconds, or the
        gateway's ``retry-after`` when longer."""
        _bounds(timeout, poll_interval)
        deadline = time.monotonic() + timeout
        while True:
            result = self.get(id)
            remaining = deadline - time.monotonic()
            if result.done:
                return result
            if remaining <= 0:
                raise AsyncCallTimeoutError(id, result.status, timeout)
            time.sleep(_pause(result, poll_interval, remaining))

    def run(
        self,
        path: str,
        body: Any,
        *,
        timeout: float = 60.0,
        poll_interval: float = 1.0,
        callback_url: Optional[str] = None,
    ) -> AsyncResult:
        """``submit`` then ``wait``."""
        _bounds(timeout, poll_interval)
        job = self.submit(path, body, callback_url=callback_url)
        return self.wait(job.id, timeout=timeout, poll_interval=poll_interval)


class AsyncAsyncCalls(AsyncResource):
    async def submit(
        self,
        path: str,
        body: Any,
        *,
        callback_url: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> AsyncJob:
        return await self._send(_submit(path, body, callback_url, headers))

    async def get(self, id: str) -> AsyncResult:
        return await self._send(_get(id))

    async def cancel(self, id: str) -> AsyncJob:
        return await self._send(_cancel(id))

    async def wait(self, id: str, *, timeout: float = 60.0, poll_interval: float = 1.0) -> AsyncResult:
        _bounds(timeout, poll_interval)
        deadline = time.monotonic() + timeout
        while True:
            result = await self.get(id)
            remaining = deadline - time.monotonic()
            if result.done:
                return result
            if remaining <= 0:
                raise AsyncCallTimeoutError(id, result.status, timeout)
            await asyncio.sleep(_pause(result, poll_interval, remaining))

    async def run(
        self,
        path: str,
        body: Any,
        *,
        timeout: float = 60.0,
        poll_interval: float = 1.0,
        callback_url: Optional[str] = None,
    ) -> AsyncResult:
        _bounds(timeout, poll_interval)
        job = await self.submit(path, body, callback_url=callback_url)
        return await self.wait(job.id, timeout=timeout, poll_interval=poll_interval)
