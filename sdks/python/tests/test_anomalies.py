"""Anomalies (``/admin/v1/anomalies``) against the real gateway, sync and async: a fresh
gateway has raised none (baselines need their warm-up first; the detection itself is
tested in the gateway's own suite), the tenant filter and the limit are passed through, a
limit out of range is refused naming the parameter, and a key without ``read_keys`` may not
list."""

from __future__ import annotations

import asyncio

import pytest
from conftest import Running, unique

from llm_gateway import AsyncGateway, BadRequestError, Gateway, PermissionDeniedError


def test_list_filters_and_limits(gateway: Running, admin: Gateway) -> None:
    assert admin.anomalies.list() == []
    assert admin.anomalies.list(tenant="acme", limit=5) == []
    with pytest.raises(BadRequestError) as err:
        admin.anomalies.list(limit=513)
    assert err.value.param == "limit"
    tenant = admin.tenants.create(unique("anomalies")).id
    key = admin.keys.create(tenant, "app", roles=["developer"])
    with Gateway(gateway.url, key.secret, max_retries=0) as app:
        with pytest.raises(PermissionDeniedError):
            app.anomalies.list()


def test_async_list(gateway: Running) -> None:
    async def main() -> None:
        async with AsyncGateway(gateway.url, gateway.admin_token, max_retries=0) as admin:
            assert await admin.anomalies.list(limit=1) == []

    asyncio.run(main())
