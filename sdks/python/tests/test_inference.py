"""The inference helpers: the official SDKs configured for the gateway, the gateway's
metadata as typed fields, and ``/query`` — against mock upstreams behind the real binary."""

from __future__ import annotations

import asyncio
from typing import Iterator

import openai
import pytest
from conftest import Running, unique

from llm_gateway import AsyncGateway, Gateway, RateLimitError, gateway_metadata

HELLO = [{"role": "user", "content": "Hello gateway"}]


@pytest.fixture()
def app(upstream_gateway: Running) -> Iterator[Gateway]:
    # Clients are closed after use: an idle kept-alive connection delays the gateway's stop.
    with Gateway(upstream_gateway.url, upstream_gateway.demo_key, max_retries=0) as gw:
        yield gw


def test_openai_client_and_metadata(app: Gateway) -> None:
    with app.openai(max_retries=0) as client:
        assert isinstance(client, openai.OpenAI) and str(client.base_url).rstrip("/").endswith("/v1")
        raw = client.chat.completions.with_raw_response.create(model="gpt-test", messages=HELLO)
    assert "Hello gateway" in (raw.parse().choices[0].message.content or "")
    meta = gateway_metadata(raw)
    assert meta.provider == "openai-mock" and meta.model == "gpt-4o-mini" and meta.attempts == 1
    assert meta.request_id and len(meta.request_id) >= 16


def test_the_sdks_keep_their_own_timeouts(upstream_gateway: Running) -> None:
    # The admin client's short timeout is not a fit for model calls.
    with Gateway(upstream_gateway.url, upstream_gateway.demo_key, timeout=5) as app:
        with app.openai() as client, app.anthropic(timeout=120) as claude:
            assert client.timeout == openai.DEFAULT_TIMEOUT and client.timeout != 5
            assert claude.timeout == 120


def test_fallback_shows_in_attempts(app: Gateway) -> None:
    with app.openai(max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(model="fallback-test", messages=HELLO)
    meta = gateway_metadata(raw)
    assert meta.attempts == 2 and meta.model == "gpt-4o-mini", meta


def test_rate_limit_headers_are_typed(upstream_gateway: Running) -> None:
    with Gateway(upstream_gateway.url, upstream_gateway.admin_token) as admin:
        tenant = admin.tenants.create(unique("rl")).id
        key = admin.keys.create(tenant, "limited", limits={"rpm": 50, "tpm": 100000})
    with Gateway(upstream_gateway.url, key.secret) as app, app.openai(max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(model="gpt-test", messages=HELLO)
    limits = gateway_metadata(raw).rate_limit
    assert limits.limit_requests == 50 and limits.remaining_requests == 49
    assert limits.limit_tokens == 100000 and limits.remaining_tokens is not None
    assert limits.reset_requests is not None and 0 <= limits.reset_requests <= 60


def test_anthropic_client_through_the_gateway(app: Gateway) -> None:
    with app.anthropic(max_retries=0) as client:
        raw = client.messages.with_raw_response.create(model="claude-test", max_tokens=50, messages=HELLO)
    msg = raw.parse()
    assert "Hello gateway" in "".join(b.text for b in msg.content if b.type == "text")
    meta = gateway_metadata(raw)
    assert meta.provider == "claude-mock" and meta.model == "claude-sonnet-4-5"
    assert meta.dropped_params == []


def test_dropped_parameters_are_listed(app: Gateway) -> None:
    with app.openai(max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="claude-test", messages=HELLO, seed=7, logit_bias={"50256": -100}
        )
    assert sorted(gateway_metadata(raw).dropped_params) == ["logit_bias", "seed"]


def test_metadata_of_an_sdk_error(app: Gateway) -> None:
    with app.openai(max_retries=0) as client, pytest.raises(openai.RateLimitError) as err:
        client.chat.completions.create(model="limited-test", messages=HELLO)
    meta = gateway_metadata(err.value.response)
    assert meta.retry_after == 1.0 and meta.request_id


def test_query_reports_cost_and_metadata(gateway: Running) -> None:
    with Gateway(gateway.url, gateway.demo_key) as app:
        result = app.query("Hello query", max_tokens=20, temperature=0.5)
    assert "Hello query" in result.response and result.cascade_path == ["demo"]
    assert result.usage["total_tokens"] > 0
    assert result.metadata.provider == "demo" and result.metadata.cost_usd == result.cost_estimate_usd


def test_async_helpers(upstream_gateway: Running) -> None:
    async def main() -> None:
        async with AsyncGateway(upstream_gateway.url, upstream_gateway.demo_key) as app:
            async with app.openai(max_retries=0) as client:
                assert isinstance(client, openai.AsyncOpenAI)
                raw = await client.chat.completions.with_raw_response.create(model="gpt-test", messages=HELLO)
                assert gateway_metadata(raw).provider == "openai-mock"
            async with app.anthropic(max_retries=0) as claude:
                msg = await claude.messages.create(model="claude-test", max_tokens=20, messages=HELLO)
            assert msg.stop_reason == "end_turn"
            with pytest.raises(RateLimitError):
                await app.query("always limited")

    asyncio.run(main())
