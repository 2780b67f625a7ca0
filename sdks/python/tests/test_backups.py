"""Backups (``/admin/v1/backups``) against the real gateway, sync and async: a backup taken
through the SDK is an archive in the gateway's ``[backup] dir``, listed newest first, read
back with its manifest, audited; only admins may take one; a gateway without ``[backup]``
says so."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import BackupRunning, unique

from llm_gateway import AsyncGateway, BadRequestError, Gateway, NotFoundError, PermissionDeniedError


def test_create_list_get_and_audit(backup_gateway: BackupRunning) -> None:
    with Gateway(backup_gateway.url, backup_gateway.admin_token, max_retries=0) as admin:
        tenant = admin.tenants.create(unique("backup")).id
        first = admin.backups.create()
        assert first["error"] is None and first["size_bytes"] > 0
        manifest = first["manifest"]
        assert manifest["id"] == first["id"] and manifest["backend"] == "sqlite"
        rows = {t["name"]: t["rows"] for t in manifest["tables"]}
        assert rows["tenants"] >= 1, rows
        archive = Path(backup_gateway.backup_dir) / f"{first['id']}.gwbackup"
        assert archive.stat().st_size == first["size_bytes"]
        assert admin.backups.get(first["id"]) == first

        admin.tenants.create(unique("backup"))
        second = admin.backups.create()
        assert second["id"] != first["id"]
        assert {t["name"]: t["rows"] for t in second["manifest"]["tables"]}["tenants"] == rows["tenants"] + 1
        listed = [b["id"] for b in admin.backups.list()]
        assert listed.index(second["id"]) < listed.index(first["id"]), "newest first"

        with pytest.raises(NotFoundError):
            admin.backups.get("gateway-19700101T000000000Z")
        with pytest.raises(ValueError):
            admin.backups.get("..")
        audited = [r.target for r in admin.audit.iter(action="backup.create") if r.outcome == "success"]
        assert first["id"] in audited and second["id"] in audited

        key = admin.keys.create(tenant, "not-an-admin")
        with Gateway(backup_gateway.url, key.secret, max_retries=0) as app:
            with pytest.raises(PermissionDeniedError):
                app.backups.create()
            with pytest.raises(PermissionDeniedError):
                app.backups.list()


def test_async_backups(backup_gateway: BackupRunning) -> None:
    async def main() -> None:
        async with AsyncGateway(backup_gateway.url, backup_gateway.admin_token, max_retries=0) as admin:
            made = await admin.backups.create()
            assert made["manifest"]["id"] == made["id"]
            assert (await admin.backups.get(made["id"])) == made
            assert made["id"] in [b["id"] for b in await admin.backups.list()]
            with pytest.raises(NotFoundError):
                await admin.backups.get("gateway-19700101T000000000Z")

    asyncio.run(main())


def test_a_gateway_without_backup_config_says_so(admin: Gateway) -> None:
    with pytest.raises(BadRequestError) as err:
        admin.backups.create()
    assert "not configured" in err.value.message
    with pytest.raises(BadRequestError):
        admin.backups.list()
