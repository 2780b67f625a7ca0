"""When to send a failed call again, and after how long.

Only answers that may succeed when repeated are retried (:data:`RETRYABLE_STATUSES`), and a
call that is not idempotent (creating or rotating a key) only when the gateway certainly did
not act on it: a 429, or a connection that never opened. The wait is the gateway's
``retry-after`` when it gives one, else an exponential backoff with jitter; the retries of
one call stop after ``max_retries`` or when the next wait would take the total past
``max_wait`` seconds (then the error is raised with its ``retry_after`` for the caller).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

from .errors import RETRYABLE_STATUSES

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries. ``RetryPolicy(max_retries=0)`` turns retries off."""

    max_retries: int = 2
    """Retries after the first attempt."""
    max_wait: float = 30.0
    """Most seconds slept in all the retries of one call together."""
    initial_backoff: float = 0.5
    max_backoff: float = 8.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.max_wait < 0 or self.initial_backoff < 0 or self.max_backoff < 0:
            raise ValueError("retry settings must not be negative")

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0-based) without a ``retry-after``: full jitter."""
        ceiling = min(self.max_backoff, self.initial_backoff * (2**retry))
        return random.uniform(ceiling / 2, ceiling)

    def delay_after_status(
        self, retry: int, waited: float, status: int, retry_after: Optional[float], idempotent: bool
    ) -> Optional[float]:
        """Seconds to wait before retrying an error answer, or ``None`` to give up."""
        if status not in RETRYABLE_STATUSES or (not idempotent and status != 429):
            return None
        return self._within_budget(retry, waited, retry_after)

    def delay_after_connection_error(self, retry: int, waited: float, sent: bool, idempotent: bool) -> Optional[float]:
        """Seconds to wait before retrying after a transport failure, or ``None`` to give up.

        ``sent`` is whether the request may have reached the gateway (anything past connecting).
        """
        if sent and not idempotent:
            return None
        return self._within_budget(retry, waited, None)

    def _within_budget(self, retry: int, waited: float, retry_after: Optional[float]) -> Optional[float]:
        if retry >= self.max_retries:
            return None
        delay = retry_after if retry_after is not None else self.backoff(retry)
        if waited + delay > self.max_wait:
            return None
        return delay
