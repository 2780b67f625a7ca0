"""What every resource shares: the transport its calls go through.

A resource is one file in this package: functions that describe its calls (a
:class:`~llm_gateway._transport.Call` each), and a sync and an async class whose methods send
them. Adding an API (batches, feedback, templates) is one such file plus one line in each
client class.
"""

from __future__ import annotations

from typing import TypeVar

from .._transport import AsyncTransport, Call, SyncTransport

T = TypeVar("T")


class SyncResource:
    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def _send(self, call: Call[T]) -> T:
        return self._transport.send(call)


class AsyncResource:
    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    async def _send(self, call: Call[T]) -> T:
        return await self._transport.send(call)
