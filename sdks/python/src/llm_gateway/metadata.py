"""What the gateway says about a call in its response headers, as typed fields.

Works on any response the official SDKs give you, on an ``httpx.Response`` and on a plain
header mapping::

    raw = client.chat.completions.with_raw_response.create(model="demo", messages=msgs)
    meta = gateway_metadata(raw)
    meta.provider, meta.attempts, meta.cache, meta.rate_limit.remaining_requests

and on the SDKs' errors (``gateway_metadata(err.response)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from ._headers import header_int, header_seconds, parse_retry_after

__all__ = ["RateLimitInfo", "ResponseMetadata", "gateway_metadata"]


@dataclass(frozen=True)
class RateLimitInfo:
    """OpenAI-named ``x-ratelimit-*`` headers: the tightest request and token rates."""

    limit_requests: Optional[int] = None
    remaining_requests: Optional[int] = None
    reset_requests: Optional[float] = None
    """Seconds until the request budget is whole again."""
    limit_tokens: Optional[int] = None
    remaining_tokens: Optional[int] = None
    reset_tokens: Optional[float] = None
    """Seconds until the token budget is whole again."""


@dataclass(frozen=True)
class ResponseMetadata:
    """The gateway's headers on one answer.

    Attributes:
        request_id: ``x-request-id``; quote it when reporting a problem.
        provider: ``x-gateway-provider``, the provider (deployment) that answered.
        model: ``x-gateway-model``, the upstream model name that answered.
        attempts: ``x-gateway-attempts``, upstream attempts the gateway made (retries and
            fallbacks included).
        region: ``x-gateway-region``, the deployment's region tag, when it has one.
        dropped_params: ``x-gateway-dropped-params``, request parameters the provider has no
            form for, which the gateway left out (empty when none were).
        cache: ``x-gateway-cache``: ``hit``, ``miss`` or ``bypass`` when the response cache
            applies to the call, else ``None``.
        rate_limit: the ``x-ratelimit-*`` headers.
        retry_after: seconds from ``retry-after-ms``/``retry-after`` (on 429 and some 5xx).
        cost_usd: the estimated cost when the gateway reports it in the answer (``/query``
            does); ``None`` otherwise — the usage report has the cost of every call.
        headers: every header, names in lower case.
    """

    request_id: Optional[str] = None
    provider: Optional[str] = None
    model: Optional[str] = None
    attempts: Optional[int] = None
    region: Optional[str] = None
    dropped_params: List[str] = field(default_factory=list)
    cache: Optional[str] = None
    rate_limit: RateLimitInfo = field(default_factory=RateLimitInfo)
    retry_after: Optional[float] = None
    cost_usd: Optional[float] = None
    headers: Dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def cache_hit(self) -> bool:
        return self.cache == "hit"

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], cost_usd: Optional[float] = None) -> "ResponseMetadata":
        h = {str(k).lower(): str(v) for k, v in headers.items()}
        return cls(
            request_id=h.get("x-request-id"),
            provider=h.get("x-gateway-provider"),
            model=h.get("x-gateway-model"),
            attempts=header_int(h, "x-gateway-attempts"),
            region=h.get("x-gateway-region"),
            dropped_params=[p.strip() for p in h.get("x-gateway-dropped-params", "").split(",") if p.strip()],
            cache=h.get("x-gateway-cache"),
            rate_limit=RateLimitInfo(
                limit_requests=header_int(h, "x-ratelimit-limit-requests"),
                remaining_requests=header_int(h, "x-ratelimit-remaining-requests"),
                reset_requests=header_seconds(h, "x-ratelimit-reset-requests"),
                limit_tokens=header_int(h, "x-ratelimit-limit-tokens"),
                remaining_tokens=header_int(h, "x-ratelimit-remaining-tokens"),
                reset_tokens=header_seconds(h, "x-ratelimit-reset-tokens"),
            ),
            retry_after=parse_retry_after(h),
            cost_usd=cost_usd,
            headers=h,
        )


def gateway_metadata(source: Any) -> ResponseMetadata:
    """The gateway metadata of a response.

    ``source`` may be a raw response of the ``openai`` or ``anthropic`` SDK
    (``.with_raw_response``), one of their ``APIStatusError`` exceptions, an
    ``httpx.Response``, an :class:`~llm_gateway.errors.APIStatusError` of this SDK, or a
    mapping of headers.
    """
    if isinstance(source, Mapping):
        return ResponseMetadata.from_headers(source)
    headers = getattr(source, "headers", None)
    if headers is None:
        response = getattr(source, "response", None)
        headers = getattr(response, "headers", None)
    if headers is None:
        raise TypeError(f"cannot read gateway metadata from {type(source).__name__}: it has no headers")
    return ResponseMetadata.from_headers(dict(headers.items()))
