"""The two entry points: :class:`Gateway` (sync) and :class:`AsyncGateway`.

Both take the gateway's root URL and one credential, sent as ``Authorization: Bearer``: the
admin token or an API key whose roles allow the calls made (``GATEWAY_URL`` and
``GATEWAY_API_KEY`` / ``GATEWAY_ADMIN_TOKEN`` are the defaults).
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Type, Union

import httpx

from . import inference
from ._transport import AsyncTransport, Call, Settings, SyncTransport
from .metadata import ResponseMetadata
from .resources.async_calls import AsyncAsyncCalls, AsyncCalls
from .resources.audit import AsyncAudit, Audit
from .resources.anomalies import Anomalies, AsyncAnomalies
from .resources.backups import AsyncBackups, Backups
from .resources.templates import AsyncPrompts, AsyncTemplates, Prompts, Templates
from .resources.cache import AsyncCache, Cache
from .resources.console import AsyncConsole, Console
from .resources.deployments import AsyncDeployments, Deployments
from .resources.encryption import AsyncEncryption, Encryption
from .resources.feedback import AsyncFeedback, Feedback
from .resources.guardrails import AsyncGuardrails, Guardrails
from .resources.keys import AsyncKeys, Keys
from .resources.models import AsyncModels, Models
from .resources.tenants import AsyncTenants, Tenants
from .resources.usage import AsyncUsage, Usage
from .resources.webhooks import AsyncWebhooks, Webhooks
from .types import QueryResult

if TYPE_CHECKING:  # pragma: no cover
    import anthropic
    import openai

__all__ = ["Gateway", "AsyncGateway"]


def _status(data: Any, meta: ResponseMetadata) -> Dict[str, Any]:
    return data if isinstance(data, dict) else {}


class _Common:
    _settings: Settings

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def _key(self, api_key: Optional[str]) -> str:
        return api_key or self._settings.api_key


class Gateway(_Common):
    """A synchronous client of the gateway's own APIs.

    Args:
        base_url: the gateway's root URL (default ``$GATEWAY_URL``, else ``http://127.0.0.1:8080``).
        api_key: the admin token or a gateway API key (default ``$GATEWAY_API_KEY``, else
            ``$GATEWAY_ADMIN_TOKEN``).
        timeout: seconds per attempt (or an ``httpx.Timeout``); 30 by default.
        max_retries: retries of a failed call (retryable statuses only; see ``RetryPolicy``).
        max_retry_wait: most seconds one call may spend waiting between retries.
        http_client: an ``httpx.Client`` to use (proxies, TLS settings); closed by its owner.
        default_headers: headers sent on every call.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        http_client: Optional[httpx.Client] = None,
        default_headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._settings = Settings.build(base_url, api_key, timeout, max_retries, max_retry_wait, default_headers)
        transport = SyncTransport(self._settings, http_client)
        self._transport = transport
        self.tenants = Tenants(transport)
        self.keys = Keys(transport)
        self.usage = Usage(transport)
        self.feedback = Feedback(transport)
        self.audit = Audit(transport)
        self.deployments = Deployments(transport)
        self.cache = Cache(transport)
        self.console = Console(transport)
        self.webhooks = Webhooks(transport)
        self.backups = Backups(transport)
        self.encryption = Encryption(transport)
        self.templates = Templates(transport)
        self.prompts = Prompts(transport)
        self.anomalies = Anomalies(transport)
        self.async_calls = AsyncCalls(transport)
        self.guardrails = Guardrails(transport)
        self.models = Models(transport)

    def query(
        self, prompt: str, *, max_tokens: Optional[int] = None, temperature: Optional[float] = None
    ) -> QueryResult:
        """``POST /query``: the simple API; the result carries the cost estimate and metadata."""
        return self._transport.send(inference.query_call(prompt, max_tokens, temperature))

    def health(self) -> Dict[str, Any]:
        """``GET /health`` (liveness)."""
        return self._transport.send(Call("GET", "/health", _status))

    def ready(self) -> Dict[str, Any]:
        """``GET /ready``: raises ``ServiceUnavailableError`` (503) when not ready."""
        return self._transport.send(Call("GET", "/ready", _status))

    def openai(self, *, api_key: Optional[str] = None, **kwargs: Any) -> "openai.OpenAI":
        """An ``openai.OpenAI`` client for the gateway (``kwargs`` go to its constructor).

        It keeps the SDK's own timeout and retries unless ``kwargs`` set them: model calls
        may take far longer than the admin calls this client's ``timeout`` is for.
        """
        return inference.openai_client(self.base_url, self._key(api_key), **kwargs)

    def anthropic(self, *, api_key: Optional[str] = None, **kwargs: Any) -> "anthropic.Anthropic":
        """An ``anthropic.Anthropic`` client for the gateway's ``/v1/messages``."""
        return inference.anthropic_client(self.base_url, self._key(api_key), **kwargs)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "Gateway":
        return self

    def __exit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()


class AsyncGateway(_Common):
    """The asynchronous twin of :class:`Gateway` (same arguments; ``httpx.AsyncClient``)."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        http_client: Optional[httpx.AsyncClient] = None,
        default_headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._settings = Settings.build(base_url, api_key, timeout, max_retries, max_retry_wait, default_headers)
        transport = AsyncTransport(self._settings, http_client)
        self._transport = transport
        self.tenants = AsyncTenants(transport)
        self.keys = AsyncKeys(transport)
        self.usage = AsyncUsage(transport)
        self.feedback = AsyncFeedback(transport)
        self.audit = AsyncAudit(transport)
        self.deployments = AsyncDeployments(transport)
        self.cache = AsyncCache(transport)
        self.console = AsyncConsole(transport)
        self.webhooks = AsyncWebhooks(transport)
        self.backups = AsyncBackups(transport)
        self.encryption = AsyncEncryption(transport)
        self.templates = AsyncTemplates(transport)
        self.prompts = AsyncPrompts(transport)
        self.anomalies = AsyncAnomalies(transport)
        self.async_calls = AsyncAsyncCalls(transport)
        self.guardrails = AsyncGuardrails(transport)
        self.models = AsyncModels(transport)

    async def query(
        self, prompt: str, *, max_tokens: Optional[int] = None, temperature: Optional[float] = None
    ) -> QueryResult:
        return await self._transport.send(inference.query_call(prompt, max_tokens, temperature))

    async def health(self) -> Dict[str, Any]:
        return await self._transport.send(Call("GET", "/health", _status))

    async def ready(self) -> Dict[str, Any]:
        return await self._transport.send(Call("GET", "/ready", _status))

    def openai(self, *, api_key: Optional[str] = None, **kwargs: Any) -> "openai.AsyncOpenAI":
        """An ``openai.AsyncOpenAI`` client for the gateway."""
        return inference.async_openai_client(self.base_url, self._key(api_key), **kwargs)

    def anthropic(self, *, api_key: Optional[str] = None, **kwargs: Any) -> "anthropic.AsyncAnthropic":
        """An ``anthropic.AsyncAnthropic`` client for the gateway."""
        return inference.async_anthropic_client(self.base_url, self._key(api_key), **kwargs)

    async def close(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> "AsyncGateway":
        return self

    async def __aexit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        await self.close()
