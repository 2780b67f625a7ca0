"""Key management (``/admin/v1/tenants/{id}/encryption``, ``/admin/v1/encryption/rewrap``)
against the real gateway, sync and async: status, rotation to a new version, re-encryption
counts, re-wrap counts, opening values (a value that is not sealed is ``invalid``); a
tenant admin manages its own tenant only; a gateway without ``[encryption]`` says so."""

from __future__ import annotations

import asyncio

import pytest
from conftest import Running, unique

from llm_gateway import AsyncGateway, BadRequestError, Gateway, PermissionDeniedError


def test_status_rotate_reencrypt_rewrap_open(encryption_gateway: Running) -> None:
    with Gateway(encryption_gateway.url, encryption_gateway.admin_token, max_retries=0) as admin:
        tenant = admin.tenants.create(unique("enc")).id
        status = admin.encryption.status(tenant)
        assert status["object"] == "tenant.keys" and status["tenant"] == tenant
        assert status["current"] is None and status["versions"] == []
        assert status["kek_id"] == "sdk-kek"
        first = admin.encryption.rotate(tenant)
        second = admin.encryption.rotate(tenant)
        assert (first["current"], second["current"]) == (1, 2)
        assert second["versions"] == [{"version": 1, "kek_id": "sdk-kek"}, {"version": 2, "kek_id": "sdk-kek"}]
        assert admin.encryption.status(tenant)["current"] == 2
        re = admin.encryption.reencrypt(tenant)
        assert re["reencrypted"] == {"resealed": 0, "current": 0}
        wrap = admin.encryption.rewrap()
        assert wrap["object"] == "kek.rewrap" and wrap["kek_id"] == "sdk-kek"
        assert wrap["rewrapped"] == 0 and wrap["already_current"] >= 2
        opened = admin.encryption.open(tenant, ["not sealed", "gwe1:AAAA"])
        assert [o["status"] for o in opened] == ["invalid", "invalid"]
        with pytest.raises(BadRequestError):
            admin.encryption.open(tenant, [])
        with pytest.raises(TypeError):
            admin.encryption.open(tenant, "gwe1:AAAA")
        audited = [r.target for r in admin.audit.iter(action="tenant.keys.rotate") if r.outcome == "success"]
        assert audited.count(tenant) == 2

        other = admin.tenants.create(unique("enc")).id
        boss = admin.keys.create(tenant, "tenant-admin", roles=["tenant_admin"])
        with Gateway(encryption_gateway.url, boss.secret, max_retries=0) as own:
            assert own.encryption.rotate(tenant)["current"] == 3
            with pytest.raises(PermissionDeniedError):
                own.encryption.rotate(other)
            with pytest.raises(PermissionDeniedError):
                own.encryption.rewrap()
            with pytest.raises(PermissionDeniedError):
                own.encryption.open(tenant, ["gwe1:AAAA"])
        developer = admin.keys.create(tenant, "developer")
        with Gateway(encryption_gateway.url, developer.secret, max_retries=0) as app:
            with pytest.raises(PermissionDeniedError):
                app.encryption.status(tenant)


def test_async_encryption(encryption_gateway: Running) -> None:
    async def main() -> None:
        async with AsyncGateway(encryption_gateway.url, encryption_gateway.admin_token, max_retries=0) as admin:
            tenant = (await admin.tenants.create(unique("enc"))).id
            assert (await admin.encryption.rotate(tenant))["current"] == 1
            assert (await admin.encryption.status(tenant))["versions"][0]["kek_id"] == "sdk-kek"
            assert (await admin.encryption.reencrypt(tenant))["reencrypted"]["resealed"] == 0
            assert (await admin.encryption.rewrap())["rewrapped"] == 0
            assert (await admin.encryption.open(tenant, ["x"]))[0]["status"] == "invalid"

    asyncio.run(main())


def test_a_gateway_without_encryption_says_so(admin: Gateway) -> None:
    with pytest.raises(BadRequestError) as err:
        admin.encryption.status("acme")
    assert "not configured" in err.value.message
    with pytest.raises(BadRequestError):
        admin.encryption.rewrap()
