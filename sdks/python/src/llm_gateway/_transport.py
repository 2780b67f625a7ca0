"""Sending one described call to the gateway, sync or async, with retries and typed errors.

A resource method only describes its call (:class:`Call`: method, path, query, body and how
to read the answer); the transports here do the rest the same way for both flavours.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, Generic, Mapping, Optional, Sequence, TypeVar, Union
from urllib.parse import quote

import httpx

from ._retry import RetryPolicy
from ._version import __version__
from .errors import APIConnectionError, APIStatusError, APITimeoutError, GatewayError, from_response
from .metadata import ResponseMetadata

T = TypeVar("T")

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 30.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

TimeValue = Union[datetime, date, int, float, str]
"""A time filter: an aware (or UTC) datetime, a date (as ``to``, the whole day), unix
seconds, or a string the gateway accepts (RFC 3339, ``YYYY-MM-DD``)."""


class _NotGiven:
    """The default of update fields: leave the field as it is (``None`` clears it)."""

    _instance: Optional["_NotGiven"] = None

    def __new__(cls) -> "_NotGiven":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = _NotGiven()


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: what to send and how to read a successful answer."""

    method: str
    path: str
    parse: Callable[[Any, ResponseMetadata], T]
    params: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    idempotent: Optional[bool] = None
    """Whether repeating it is harmless; by default, from the method."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Request headers of this call only (``prefer``, ...)."""
    retry_status: Optional[Callable[[APIStatusError], bool]] = None
    """Whether an error answer may be retried at all (by default, by the retry policy only):
    an async job's recorded answer is final, however retryable its status."""

    @property
    def safe_to_repeat(self) -> bool:
        return self.idempotent if self.idempotent is not None else self.method in IDEMPOTENT_METHODS


def segment(value: str, what: str = "id") -> str:
    """``value`` as one path segment, refusing what could address another path."""
    if not isinstance(value, str) or value in ("", ".", ".."):
        raise ValueError(f"invalid {what}: {value!r}")
    return quote(value, safe="")


def time_param(value: TimeValue) -> str:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        raise TypeError("a time filter cannot be a bool")
    if isinstance(value, (int, float)):
        return str(int(value))
    return str(value)


def query(**params: Any) -> Dict[str, str]:
    """Query parameters without the ones left out (``None``)."""
    out: Dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        out[name.rstrip("_")] = str(value)
    return out


def body(**fields_: Any) -> Dict[str, Any]:
    """A JSON body without the fields left out (``NOT_GIVEN``; ``None`` is sent as null)."""
    return {name: _jsonable(value) for name, value in fields_.items() if value is not NOT_GIVEN}


def _jsonable(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, (datetime, date)):
        return time_param(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class Settings:
    """What every call of one client shares."""

    base_url: str
    # The credential never shows in a repr (logs, tracebacks).
    api_key: str = field(repr=False)
    timeout: Union[float, httpx.Timeout] = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        base_url: Optional[str],
        api_key: Optional[str],
        timeout: Union[float, httpx.Timeout, None],
        max_retries: int,
        max_retry_wait: float,
        default_headers: Optional[Mapping[str, str]],
    ) -> "Settings":
        url = (base_url or os.environ.get("GATEWAY_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
        key = api_key or os.environ.get("GATEWAY_API_KEY") or os.environ.get("GATEWAY_ADMIN_TOKEN")
        if not key:
            raise GatewayError("no credential: pass api_key= or set GATEWAY_API_KEY (or GATEWAY_ADMIN_TOKEN)")
        headers = {
            "accept": "application/json",
            "user-agent": f"llm-gateway-python/{__version__}",
            **{k.lower(): v for k, v in (default_headers or {}).items()},
            "authorization": f"Bearer {key}",
        }
        return cls(
            base_url=url,
            api_key=key,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            retry=RetryPolicy(max_retries=max_retries, max_wait=max_retry_wait),
            headers=headers,
        )

    def request(self, client: Union[httpx.Client, httpx.AsyncClient], call: Call[Any]) -> httpx.Request:
        headers = {**self.headers, **{k.lower(): v for k, v in call.headers.items()}}
        content = None
        if call.body is not None:
            headers["content-type"] = "application/json"
            content = json.dumps(call.body).encode()
        return client.build_request(
            call.method,
            self.base_url + call.path,
            params=dict(call.params) or None,
            headers=headers,
            content=content,
            timeout=self.timeout,
        )


def _decode(call: Call[T], response: httpx.Response) -> T:
    headers = dict(response.headers.items())
    if response.status_code >= 400:
        raise from_response(response.status_code, headers, response.text)
    try:
        data = response.json() if response.content else None
    except ValueError as err:
        raise GatewayError(
            f"the gateway answered {response.status_code} with a body that is not JSON "
            f"(request id {response.headers.get('x-request-id')})"
        ) from err
    return call.parse(data, ResponseMetadata.from_headers(headers))


def _connection_error(err: httpx.TransportError, base_url: str) -> APIConnectionError:
    if isinstance(err, httpx.TimeoutException):
        return APITimeoutError(f"the gateway at {base_url} did not answer in time: {err}")
    return APIConnectionError(f"cannot reach the gateway at {base_url}: {err}")


def _was_sent(err: httpx.TransportError) -> bool:
    """Whether the request may have reached the gateway (anything but a failed connect)."""
    return not isinstance(err, (httpx.ConnectError, httpx.ConnectTimeout))


def _status_delay(call: Call[Any], policy: RetryPolicy, retry: int, waited: float, err: APIStatusError) -> Optional[float]:
    if call.retry_status is not None and not call.retry_status(err):
        return None
    return policy.delay_after_status(retry, waited, err.status, err.retry_after, call.safe_to_repeat)


class SyncTransport:
    def __init__(self, settings: Settings, client: Optional[httpx.Client]) -> None:
        self.settings = settings
        self._own = client is None
        self.client = client or httpx.Client()

    def send(self, call: Call[T]) -> T:
        retry, waited, policy = 0, 0.0, self.settings.retry
        while True:
            try:
                response = self.client.send(self.settings.request(self.client, call))
            except httpx.TransportError as err:
                delay = policy.delay_after_connection_error(retry, waited, _was_sent(err), call.safe_to_repeat)
                if delay is None:
                    raise _connection_error(err, self.settings.base_url) from err
            else:
                try:
                    return _decode(call, response)
                except APIStatusError as err:
                    delay = _status_delay(call, policy, retry, waited, err)
                    if delay is None:
                        raise
            time.sleep(delay)
            waited += delay
            retry += 1

    def close(self) -> None:
        if self._own:
            self.client.close()


class AsyncTransport:
    def __init__(self, settings: Settings, client: Optional[httpx.AsyncClient]) -> None:
        self.settings = settings
        self._own = client is None
        self.client = client or httpx.AsyncClient()

    async def send(self, call: Call[T]) -> T:
        retry, waited, policy = 0, 0.0, self.settings.retry
        while True:
            try:
                response = await self.client.send(self.settings.request(self.client, call))
            except httpx.TransportError as err:
                delay = policy.delay_after_connection_error(retry, waited, _was_sent(err), call.safe_to_repeat)
                if delay is None:
                    raise _connection_error(err, self.settings.base_url) from err
            else:
                try:
                    return _decode(call, response)
                except APIStatusError as err:
                    delay = _status_delay(call, policy, retry, waited, err)
                    if delay is None:
                        raise
            await asyncio.sleep(delay)
            waited += delay
            retry += 1

    async def close(self) -> None:
        if self._own:
            await self.client.aclose()


def names(values: Union[str, Sequence[str], None]) -> Optional[str]:
    """A comma-separated list parameter from a string or a sequence."""
    if values is None:
        return None
    if isinstance(values, str):
        return values
    return ",".join(values)
