"""Typed errors mirroring the gateway's error responses.

Every non-2xx answer becomes an :class:`APIStatusError` subclass chosen by HTTP status (and,
for 400, by the gateway's ``code``): catch :class:`RateLimitError` for 429,
:class:`NotFoundError` for 404, and so on, or :class:`GatewayError` for everything the SDK
raises. The fields come from the gateway's JSON error body
(``{"error": {"message", "type", "code", "param"}}``) and its headers.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Type

from ._headers import parse_retry_after

__all__ = [
    "GatewayError",
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "BadRequestError",
    "ConflictError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "MethodNotAllowedError",
    "RequestTimeoutError",
    "PayloadTooLargeError",
    "PolicyViolationError",
    "RateLimitError",
    "InternalServerError",
    "UpstreamError",
    "ServiceUnavailableError",
    "UpstreamTimeoutError",
    "RETRYABLE_STATUSES",
]

#: Statuses that may succeed when sent again (the request was not acted upon, or was
#: idempotent). Only these are retried, and non-idempotent calls only on 429.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class GatewayError(Exception):
    """Base class of every error this SDK raises."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIConnectionError(GatewayError):
    """The gateway could not be reached, or the connection broke before an answer."""


class APITimeoutError(APIConnectionError):
    """The gateway did not answer within the client's timeout."""


class APIStatusError(GatewayError):
    """The gateway answered with an error status.

    Attributes:
        status: the HTTP status.
        type: the error ``type`` (``invalid_request_error``, ``rate_limit_error``, ...).
        code: the stable machine-readable ``code`` when the gateway gives one
            (``already_exists``, ``rate_limit_exceeded``, ``invalid_api_key``, ...).
        param: the request field at fault, when known.
        request_id: the gateway's ``x-request-id`` (quote it when reporting a problem).
        retry_after: seconds to wait before retrying, from ``retry-after-ms``/``retry-after``.
        body: the decoded JSON body (or the raw text when it was not JSON).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        type: Optional[str] = None,
        code: Optional[str] = None,
        param: Optional[str] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        body: Any = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body
        self.headers: Dict[str, str] = dict(headers or {})

    @property
    def retryable(self) -> bool:
        """Whether sending the same request again may succeed."""
        return self.status in RETRYABLE_STATUSES

    def __str__(self) -> str:
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.status}: {self.message}{rid}"


class BadRequestError(APIStatusError):
    """400: the request is malformed or a value is invalid (``param`` names it)."""


class ConflictError(BadRequestError):
    """400 with code ``already_exists``: e.g. a tenant id that is taken."""


class AuthenticationError(APIStatusError):
    """401: no credential, or one that is unknown, expired, disabled or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the credential is valid but lacks the permission (or a policy denied it)."""


class NotFoundError(APIStatusError):
    """404: unknown id, path or model."""


class MethodNotAllowedError(APIStatusError):
    """405: the path exists but not with this method."""


class RequestTimeoutError(APIStatusError):
    """408: the gateway gave up receiving the request body."""


class PayloadTooLargeError(APIStatusError):
    """413: the body is larger than the gateway accepts."""


class PolicyViolationError(APIStatusError):
    """422: a guardrail or policy blocked the content."""


class RateLimitError(APIStatusError):
    """429: a rate, token, concurrency or budget limit; ``retry_after`` says when to retry."""


class InternalServerError(APIStatusError):
    """500: the gateway failed internally."""


class UpstreamError(APIStatusError):
    """502 (or another upstream status): the provider behind the gateway failed."""


class ServiceUnavailableError(APIStatusError):
    """503: the gateway, or a backend it needs, is not available."""


class UpstreamTimeoutError(APIStatusError):
    """504: the provider did not answer in time."""


_BY_STATUS: Dict[int, Type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    408: RequestTimeoutError,
    413: PayloadTooLargeError,
    422: PolicyViolationError,
    429: RateLimitError,
    500: InternalServerError,
    502: UpstreamError,
    503: ServiceUnavailableError,
    504: UpstreamTimeoutError,
}

_BY_CODE: Dict[str, Type[APIStatusError]] = {
    "already_exists": ConflictError,
}


def error_class(status: int, code: Optional[str], type_: Optional[str]) -> Type[APIStatusError]:
    """The exception class for an error answer."""
    if code and code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if type_ == "upstream_error" or status >= 500:
        return UpstreamError if type_ == "upstream_error" else InternalServerError
    return APIStatusError


def from_response(status: int, headers: Mapping[str, str], text: str) -> APIStatusError:
    """Build the typed error of one error answer (OpenAI- or Anthropic-shaped body)."""
    body: Any
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = text
    err: Dict[str, Any] = {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
    message = err.get("message") if isinstance(err.get("message"), str) else None
    if not message:
        snippet = text.strip()[:200] if isinstance(text, str) else ""
        message = snippet or f"HTTP {status}"
    code = err.get("code") if isinstance(err.get("code"), str) else None
    type_ = err.get("type") if isinstance(err.get("type"), str) else None
    param = err.get("param") if isinstance(err.get("param"), str) else None
    lower = {k.lower(): v for k, v in headers.items()}
    cls = error_class(status, code, type_)
    return cls(
        message,
        status=status,
        type=type_,
        code=code,
        param=param,
        request_id=lower.get("x-request-id"),
        retry_after=parse_retry_after(lower),
        body=body,
        headers=lower,
    )
