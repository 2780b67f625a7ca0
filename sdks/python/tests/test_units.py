"""Pure functions of the SDK: header parsing, error mapping, parameters and the retry rule."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from llm_gateway import (
    APIStatusError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PolicyViolationError,
    RateLimitError,
    RetryPolicy,
    UpstreamError,
    UpstreamTimeoutError,
    gateway_metadata,
)
from llm_gateway._headers import header_seconds, parse_retry_after
from llm_gateway._transport import NOT_GIVEN, body, segment, time_param
from llm_gateway.errors import from_response
from llm_gateway.types import ApiKey, CreatedKey, Limits, parse_time


def test_retry_after_headers() -> None:
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "-3"}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "99999999"}) == 86_400.0, "capped at a day"
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 12:00:30 GMT"}, now=now) == 30.0
    assert parse_retry_after({}) is None


def test_reset_durations() -> None:
    assert header_seconds({"r": "1.250s"}, "r") == 1.25
    assert header_seconds({"r": "20ms"}, "r") == 0.02
    assert header_seconds({"r": "1m30s"}, "r") == 90.0
    assert header_seconds({"r": "7"}, "r") == 7.0
    assert header_seconds({"r": "x"}, "r") is None


def test_errors_are_typed_by_status_and_code() -> None:
    def err(status: int, body: str, headers: dict = {}) -> APIStatusError:  # noqa: B006
        return from_response(status, headers, body)

    conflict = err(400, '{"error":{"message":"taken","type":"invalid_request_error","code":"already_exists","param":"id"}}')
    assert isinstance(conflict, ConflictError) and conflict.param == "id" and conflict.message == "taken"
    assert isinstance(err(404, '{"error":{"message":"no"}}'), NotFoundError)
    assert isinstance(err(422, '{"error":{"message":"blocked","type":"policy_violation"}}'), PolicyViolationError)
    limited = err(429, '{"error":{"message":"slow down"}}', {"Retry-After": "2", "X-Request-Id": "r1"})
    assert isinstance(limited, RateLimitError) and limited.retry_after == 2.0 and limited.request_id == "r1"
    assert "r1" in str(limited)
    assert isinstance(err(504, ""), UpstreamTimeoutError)
    assert isinstance(err(529, '{"error":{"type":"upstream_error","message":"overloaded"}}'), UpstreamError)
    assert isinstance(err(599, "oops"), InternalServerError)
    anthropic_shape = err(404, '{"type":"error","error":{"type":"not_found_error","message":"model nope"}}')
    assert anthropic_shape.message == "model nope" and anthropic_shape.type == "not_found_error"
    html = err(502, "<html>bad gateway</html>")
    assert html.status == 502 and "bad gateway" in html.message and html.body == "<html>bad gateway</html>"


def test_retry_policy() -> None:
    policy = RetryPolicy(max_retries=2, max_wait=10)
    assert policy.delay_after_status(0, 0, 429, 1.0, idempotent=False) == 1.0
    assert policy.delay_after_status(0, 0, 503, 2.0, idempotent=False) is None, "POST only on 429"
    assert policy.delay_after_status(0, 0, 503, 2.0, idempotent=True) == 2.0
    assert policy.delay_after_status(0, 0, 400, None, idempotent=True) is None
    assert policy.delay_after_status(2, 0, 429, 1.0, idempotent=True) is None, "out of retries"
    assert policy.delay_after_status(0, 9.5, 429, 1.0, idempotent=True) is None, "over the budget"
    backoff = policy.delay_after_status(1, 0, 502, None, idempotent=True)
    assert backoff is not None and 0.5 <= backoff <= 1.0
    assert policy.delay_after_connection_error(0, 0, sent=False, idempotent=False) is not None
    assert policy.delay_after_connection_error(0, 0, sent=True, idempotent=False) is None
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)


def test_parameters() -> None:
    assert time_param(datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)) == "2024-05-01T12:00:00Z"
    assert time_param(datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))) == "2024-05-01T12:00:00Z"
    assert time_param(datetime(2024, 5, 1, 12, 0)) == "2024-05-01T12:00:00Z", "naive is UTC"
    assert time_param(date(2024, 5, 1)) == "2024-05-01"
    assert time_param(1714564800) == "1714564800"
    assert segment("key_01 /x") == "key_01%20%2Fx"
    for bad in ("", ".", ".."):
        with pytest.raises(ValueError):
            segment(bad)
    assert body(a=1, b=None, c=NOT_GIVEN, d=Limits(rpm=5), e=("x",)) == {"a": 1, "b": None, "d": {"rpm": 5}, "e": ["x"]}
    assert not NOT_GIVEN and repr(NOT_GIVEN) == "NOT_GIVEN"


def test_records_parse_and_keep_unknown_fields() -> None:
    assert parse_time("2024-05-01T12:00:00.123Z") == datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)
    assert parse_time(None) is None and parse_time("garbage") is None
    data = {"id": "key_1", "tenant": "t", "name": "n", "prefix": "sk-gw-ab", "status": "active",
            "roles": ["developer"], "limits": {"rpm": 3}, "enabled": True, "new_field": 7,
            "secret": "sk-gw-abcdef", "replaces": "key_0"}
    created = CreatedKey.from_dict(data)
    assert created.secret == "sk-gw-abcdef" and created.replaces == "key_0" and created.limits == Limits(rpm=3)
    assert "sk-gw-abcdef" not in repr(created) and "secret" not in created.raw
    assert created.raw["new_field"] == 7
    assert isinstance(created, ApiKey)


def test_metadata_from_headers() -> None:
    meta = gateway_metadata({
        "X-Request-Id": "r", "x-gateway-provider": "p", "x-gateway-model": "m", "x-gateway-attempts": "2",
        "x-gateway-cache": "hit", "x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1.000s", "x-gateway-region": "eu",
    })
    assert (meta.request_id, meta.provider, meta.model, meta.attempts, meta.region) == ("r", "p", "m", 2, "eu")
    assert meta.cache_hit and meta.rate_limit.limit_requests == 60 and meta.rate_limit.reset_requests == 1.0
    assert meta.rate_limit.limit_tokens is None and meta.cost_usd is None
    with pytest.raises(TypeError):
        gateway_metadata(42)


def test_versions_agree() -> None:
    import re
    from pathlib import Path

    import llm_gateway

    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    match = re.search(r'^version = "([^"]+)"', pyproject, re.M)
    assert match is not None and match.group(1) == llm_gateway.__version__
    major = int(llm_gateway.__version__.split(".")[0])
    assert llm_gateway.API_VERSION == f"v{major}", "the SDK's major version is the API's"


def test_the_credential_never_shows_in_a_repr() -> None:
    from llm_gateway import Gateway

    gw = Gateway("http://127.0.0.1:9", "sk-gw-secret-value-0123456789")
    assert "sk-gw-secret-value" not in repr(gw._settings) and "sk-gw-secret-value" not in repr(gw)
