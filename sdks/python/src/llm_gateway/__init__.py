"""Official Python SDK of LLM Secure Gateway: the admin API, guardrail checks, ``/query``,
and the official OpenAI/Anthropic SDKs configured for the gateway.

    from llm_gateway import Gateway

    gw = Gateway("http://127.0.0.1:8080", api_key=ADMIN_TOKEN)
    gw.tenants.create("acme", limits={"rpm": 600})
    key = gw.keys.create("acme", "backend")      # key.secret is shown this once
"""

from ._client import AsyncGateway, Gateway
from ._retry import RetryPolicy
from ._transport import NOT_GIVEN
from ._version import API_VERSION, __version__
from .config import ConfigCheck, validate_config
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GatewayError,
    InternalServerError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PolicyViolationError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from .inference import anthropic_client, async_anthropic_client, async_openai_client, openai_client
from .metadata import RateLimitInfo, ResponseMetadata, gateway_metadata
from .resources.async_calls import AsyncCallTimeoutError, AsyncJob, AsyncResult
from .resources.feedback import FeedbackRecord, FeedbackSummary, FeedbackSummaryRow
from .types import (
    ApiKey,
    AuditPage,
    AuditRecord,
    AuditVerification,
    CacheInvalidation,
    Caller,
    CreatedKey,
    Deleted,
    Deployment,
    GuardrailFinding,
    GuardrailVerdict,
    Limits,
    Model,
    QueryResult,
    RunningConfig,
    Tenant,
    UsageReport,
    UsageRow,
)
from .webhook_signature import WEBHOOK_TOLERANCE_SECONDS, WebhookVerificationError, sign_webhook, verify_webhook

__all__ = [
    "WEBHOOK_TOLERANCE_SECONDS",
    "WebhookVerificationError",
    "sign_webhook",
    "verify_webhook",
    "__version__",
    "API_VERSION",
    "Gateway",
    "AsyncGateway",
    "FeedbackRecord",
    "FeedbackSummary",
    "FeedbackSummaryRow",
    "RetryPolicy",
    "NOT_GIVEN",
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
    "AsyncCallTimeoutError",
    "AsyncJob",
    "AsyncResult",
    "openai_client",
    "async_openai_client",
    "anthropic_client",
    "async_anthropic_client",
    "gateway_metadata",
    "ResponseMetadata",
    "RateLimitInfo",
    "Limits",
    "Tenant",
    "ApiKey",
    "CreatedKey",
    "Deleted",
    "UsageRow",
    "UsageReport",
    "AuditRecord",
    "AuditPage",
    "AuditVerification",
    "Deployment",
    "GuardrailFinding",
    "Caller",
    "GuardrailVerdict",
    "RunningConfig",
    "CacheInvalidation",
    "QueryResult",
    "Model",
    "ConfigCheck",
    "validate_config",
]
