"""Reading the gateway's response headers: retry delays and numbers."""

from __future__ import annotations

import email.utils
import time
from typing import Mapping, Optional

#: The longest delay a ``retry-after`` header is believed for (a day); anything above is
#: treated as this, so a bogus header cannot make a caller sleep for years.
MAX_RETRY_AFTER = 86_400.0


def parse_retry_after(headers: Mapping[str, str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait, from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date).

    ``headers`` must have lower-case names. Returns ``None`` when neither header is usable.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
            if value >= 0 and value == value:  # not NaN
                return min(value, MAX_RETRY_AFTER)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        value = float(raw)
        if value >= 0 and value == value:
            return min(value, MAX_RETRY_AFTER)
        return None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    delay = when.timestamp() - (time.time() if now is None else now)
    return min(max(delay, 0.0), MAX_RETRY_AFTER)


def header_int(headers: Mapping[str, str], name: str) -> Optional[int]:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None


def header_float(headers: Mapping[str, str], name: str) -> Optional[float]:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None


def header_seconds(headers: Mapping[str, str], name: str) -> Optional[float]:
    """A reset delay in OpenAI's notation (``1.250s``, ``20ms``, ``1m30s``) as seconds."""
    raw = headers.get(name)
    if raw is None:
        return None
    text = raw.strip()
    total = 0.0
    number = ""
    i = 0
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    seen = False
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else ch
        if unit not in units or not number:
            return None
        try:
            total += float(number) * units[unit]
        except ValueError:
            return None
        number = ""
        seen = True
        i += len(unit)
    if number:
        # A bare number is seconds.
        try:
            total += float(number)
        except ValueError:
            return None
        seen = True
    return total if seen else None
