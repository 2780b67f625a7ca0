"""Model calls through the gateway: the official SDKs, configured, one call away.

The ``openai`` and ``anthropic`` packages are optional extras
(``pip install 'llm-secure-gateway[openai]'`` / ``[anthropic]`` / ``[all]``); each helper
imports its SDK only when called. The clients they return are the SDKs' own, pointed at the
gateway with the key set: everything those SDKs do (streaming, tools, retries) works
unchanged, and :func:`~llm_gateway.metadata.gateway_metadata` reads the gateway's headers off
their raw responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from ._transport import Call
from .metadata import ResponseMetadata
from .types import QueryResult

if TYPE_CHECKING:  # pragma: no cover - only for type checkers
    import anthropic
    import openai

__all__ = ["openai_client", "async_openai_client", "anthropic_client", "async_anthropic_client"]


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as err:
        raise ImportError(
            f"the '{module}' package is needed for this helper: pip install 'llm-secure-gateway[{module}]'"
        ) from err


def _options(timeout: Optional[float], max_retries: Optional[int], kwargs: Dict[str, Any]) -> Dict[str, Any]:
    if timeout is not None:
        kwargs.setdefault("timeout", timeout)
    if max_retries is not None:
        kwargs.setdefault("max_retries", max_retries)
    return kwargs


def openai_client(
    base_url: str, api_key: str, *, timeout: Optional[float] = None, max_retries: Optional[int] = None, **kwargs: Any
) -> "openai.OpenAI":
    """``openai.OpenAI`` talking to the gateway at ``base_url`` (its root, without ``/v1``)."""
    sdk = _require("openai")
    client: "openai.OpenAI" = sdk.OpenAI(
        base_url=f"{base_url.rstrip('/')}/v1", api_key=api_key, **_options(timeout, max_retries, kwargs)
    )
    return client


def async_openai_client(
    base_url: str, api_key: str, *, timeout: Optional[float] = None, max_retries: Optional[int] = None, **kwargs: Any
) -> "openai.AsyncOpenAI":
    """``openai.AsyncOpenAI`` talking to the gateway."""
    sdk = _require("openai")
    client: "openai.AsyncOpenAI" = sdk.AsyncOpenAI(
        base_url=f"{base_url.rstrip('/')}/v1", api_key=api_key, **_options(timeout, max_retries, kwargs)
    )
    return client


def anthropic_client(
    base_url: str, api_key: str, *, timeout: Optional[float] = None, max_retries: Optional[int] = None, **kwargs: Any
) -> "anthropic.Anthropic":
    """``anthropic.Anthropic`` talking to the gateway's ``/v1/messages``."""
    sdk = _require("anthropic")
    client: "anthropic.Anthropic" = sdk.Anthropic(
        base_url=base_url.rstrip("/"), api_key=api_key, **_options(timeout, max_retries, kwargs)
    )
    return client


def async_anthropic_client(
    base_url: str, api_key: str, *, timeout: Optional[float] = None, max_retries: Optional[int] = None, **kwargs: Any
) -> "anthropic.AsyncAnthropic":
    """``anthropic.AsyncAnthropic`` talking to the gateway."""
    sdk = _require("anthropic")
    client: "anthropic.AsyncAnthropic" = sdk.AsyncAnthropic(
        base_url=base_url.rstrip("/"), api_key=api_key, **_options(timeout, max_retries, kwargs)
    )
    return client


def query_call(prompt: str, max_tokens: Optional[int], temperature: Optional[float]) -> Call[QueryResult]:
    """``POST /query``: one prompt to the model ``[query] model`` names."""
    fields: Dict[str, Any] = {"prompt": prompt}
    if max_tokens is not None:
        fields["max_tokens"] = max_tokens
    if temperature is not None:
        fields["temperature"] = temperature

    def parse(data: Any, meta: ResponseMetadata) -> QueryResult:
        cost = data.get("cost_estimate_usd") if isinstance(data, dict) else None
        with_cost = ResponseMetadata.from_headers(meta.headers, cost_usd=cost)
        return QueryResult.from_dict(data if isinstance(data, dict) else {}, with_cost)

    return Call("POST", "/query", parse, body=fields)
