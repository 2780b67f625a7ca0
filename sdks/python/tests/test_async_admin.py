"""The async client's resources against the real gateway (each its own code path)."""

from __future__ import annotations

import asyncio

import pytest
from conftest import Running, unique

from llm_gateway import AsyncGateway, AuthenticationError, ConflictError, Limits, NotFoundError


def test_every_async_resource(gateway: Running) -> None:
    async def main() -> None:
        async with AsyncGateway(gateway.url, gateway.admin_token, max_retries=0) as admin:
            tid = unique("async")
            tenant = await admin.tenants.create(tid, limits={"rpm": 100})
            assert tenant.limits == Limits(rpm=100) and (await admin.tenants.get(tid)) == tenant
            assert tid in [t.id for t in await admin.tenants.list()]
            with pytest.raises(ConflictError):
                await admin.tenants.create(tid)
            assert (await admin.tenants.disable(tid)).enabled is False
            assert (await admin.tenants.enable(tid)).enabled is True
            assert (await admin.tenants.set_limits(tid, Limits(tpm=10))).limits == Limits(tpm=10)

            key = await admin.keys.create(tid, "async-key")
            assert [k.id for k in await admin.keys.list(tenant=tid)] == [key.id]
            assert (await admin.keys.set_limits(key.id, {"rpm": 3})).limits == Limits(rpm=3)
            assert (await admin.keys.disable(key.id)).status == "disabled"
            assert (await admin.keys.enable(key.id)).status == "active"
            async with AsyncGateway(gateway.url, key.secret, max_retries=0) as app:
                verdict = await app.guardrails.check("mail me at jane@example.com")
                assert verdict.flagged and any(f.category == "email" for f in verdict.findings)
                assert "demo" in [m.id for m in await app.models.list()]
                new = await admin.keys.rotate(key.id)
                assert new.replaces == key.id and (await admin.keys.get(key.id)).status == "revoked"
                with pytest.raises(AuthenticationError):
                    await app.guardrails.check("hello")
            assert (await admin.keys.revoke(new.id)).status == "revoked"

            actions = [r.action async for r in admin.audit.iter(tenant=tid, page_size=2)]
            assert actions[0] == "tenant.create" and actions.count("key.rotate") == 1 and "key.revoke" in actions
            assert (await admin.audit.list(tenant=tid, limit=1)).next_after is not None
            assert (await admin.audit.verify()).intact
            report = await admin.usage.report(tenant=tid, group_by="model")
            assert report.group_by == ["model"]
            assert (await admin.usage.csv(tenant=tid)).startswith("requests,errors,")
            assert any(d.model == "demo" for d in await admin.deployments.list())
            assert (await admin.cache.invalidate(tenant=tid)).scope == {"scope": "tenant", "tenant": tid}
            assert (await admin.health())["status"] == "ok"
            assert (await admin.ready())["status"] == "ready"
            assert (await admin.tenants.delete(tid)).deleted
            with pytest.raises(NotFoundError):
                await admin.tenants.get(tid)

    asyncio.run(main())
