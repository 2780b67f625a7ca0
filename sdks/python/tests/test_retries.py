"""Retries against the real gateway: ``retry-after`` honoured, within a bounded budget, and
only for what may be repeated. Requests are counted on the wire with an httpx hook."""

from __future__ import annotations

import asyncio
import socket
from typing import List

import httpx
import pytest
from conftest import Running, unique

from llm_gateway import APIConnectionError, APITimeoutError, AsyncGateway, Gateway, RateLimitError


class Counter:
    def __init__(self) -> None:
        self.sent: List[str] = []

    def __call__(self, request: httpx.Request) -> None:
        self.sent.append(f"{request.method} {request.url.path}")


def test_retry_after_is_honoured_until_the_retries_run_out(upstream_gateway: Running) -> None:
    # /query goes to a model whose upstream always answers 429 with retry-after: 1.
    seen = Counter()
    with httpx.Client(event_hooks={"request": [seen]}) as http:
        app = Gateway(upstream_gateway.url, upstream_gateway.demo_key, max_retries=1, http_client=http)
        with pytest.raises(RateLimitError) as err:
            app.query("hello")
    assert seen.sent == ["POST /query", "POST /query"], "one retry after the 429"
    assert err.value.retry_after == 1.0 and err.value.code is not None and err.value.retryable


def test_a_wait_beyond_the_budget_is_not_taken(upstream_gateway: Running) -> None:
    seen = Counter()
    with httpx.Client(event_hooks={"request": [seen]}) as http:
        app = Gateway(upstream_gateway.url, upstream_gateway.demo_key, max_retries=5, max_retry_wait=0.5, http_client=http)
        with pytest.raises(RateLimitError) as err:
            app.query("hello")
    assert seen.sent == ["POST /query"], "retry-after: 1 is over the 0.5 s budget"
    assert err.value.retry_after == 1.0, "the caller learns when to come back"


def test_a_key_rate_limit_surfaces_with_its_retry_after(gateway: Running, admin: Gateway) -> None:
    tenant = admin.tenants.create(unique("rpm")).id
    key = admin.keys.create(tenant, "one-a-minute", limits={"rpm": 1})
    seen = Counter()
    with httpx.Client(event_hooks={"request": [seen]}) as http:
        app = Gateway(gateway.url, key.secret, max_retries=3, http_client=http)
        app.query("first")
        with pytest.raises(RateLimitError) as err:
            app.query("second")
    assert err.value.retry_after is not None and 1 <= err.value.retry_after <= 60
    assert seen.sent.count("POST /query") == 2, "a wait of up to a minute is beyond the 30 s budget"
    assert "rpm" in err.value.message


def test_client_errors_are_not_retried(gateway: Running, admin: Gateway) -> None:
    seen = Counter()
    with httpx.Client(event_hooks={"request": [seen]}) as http:
        app = Gateway(gateway.url, gateway.admin_token, max_retries=3, http_client=http)
        with pytest.raises(Exception):
            app.tenants.get(unique("missing"))
    assert len(seen.sent) == 1


def test_connection_errors_are_retried_then_raised() -> None:
    seen = Counter()
    # Port 9 on loopback: nothing listens there, the connection is refused at once.
    with httpx.Client(event_hooks={"request": [seen]}) as http:
        app = Gateway("http://127.0.0.1:9", "token-0123456789abcdef", max_retries=2, max_retry_wait=5, http_client=http)
        with pytest.raises(APIConnectionError) as err:
            app.tenants.list()
    assert len(seen.sent) == 3 and "127.0.0.1:9" in str(err.value)


def test_timeouts_raise_a_timeout_error() -> None:
    # A listening socket that never answers: the connection opens, no response comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = "http://127.0.0.1:%d" % silent.getsockname()[1]
        seen = Counter()
        with httpx.Client(event_hooks={"request": [seen]}) as http:
            app = Gateway(url, "token-0123456789abcdef", timeout=0.2, max_retries=2, http_client=http)
            with pytest.raises(APITimeoutError):
                app.tenants.list()
            assert len(seen.sent) == 3, "a GET that timed out is retried"
            with pytest.raises(APITimeoutError):
                app.keys.create("t", "k")
            assert len(seen.sent) == 4, "a create that may have reached the gateway is not"


def test_async_retries(upstream_gateway: Running) -> None:
    seen = Counter()

    async def hook(request: httpx.Request) -> None:
        seen(request)

    async def main() -> None:
        async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
            app = AsyncGateway(upstream_gateway.url, upstream_gateway.demo_key, max_retries=1, http_client=http)
            with pytest.raises(RateLimitError):
                await app.query("hello")

    asyncio.run(main())
    assert seen.sent == ["POST /query", "POST /query"]
