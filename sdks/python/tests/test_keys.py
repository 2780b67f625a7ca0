"""Keys against the real gateway: the secret shown once, rotation, revocation and limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from conftest import Running, unique

from llm_gateway import (
    AuthenticationError,
    BadRequestError,
    Gateway,
    Limits,
    NotFoundError,
    PermissionDeniedError,
)


@pytest.fixture()
def tenant(admin: Gateway) -> str:
    return admin.tenants.create(unique("keys")).id


def test_create_shows_the_secret_once(admin: Gateway, tenant: str) -> None:
    key = admin.keys.create(tenant, "backend", roles=["developer"], metadata={"team": "search"}, expires_in_days=30)
    assert key.secret.startswith("sk-gw-") and key.status == "active"
    assert key.secret not in repr(key), "the secret never shows in logs"
    assert key.prefix and key.secret.startswith(key.prefix)
    assert key.metadata == {"team": "search"} and key.roles == ["developer"]
    assert key.expires_at is not None and key.expires_at > datetime.now(timezone.utc) + timedelta(days=29)
    shown = admin.keys.get(key.id)
    assert "secret" not in shown.raw and shown.id == key.id and shown.tenant == tenant
    assert [k.id for k in admin.keys.list(tenant=tenant)] == [key.id]


def test_the_new_key_works_and_revoke_stops_it(gateway: Running, admin: Gateway, tenant: str) -> None:
    key = admin.keys.create(tenant, "app")
    with Gateway(gateway.url, key.secret, max_retries=0) as app:
        assert app.guardrails.check("hello").action == "allow"
        revoked = admin.keys.revoke(key.id)
        assert revoked.status == "revoked" and revoked.revoked_at is not None
        assert admin.keys.revoke(key.id).status == "revoked", "revoke is idempotent"
        with pytest.raises(AuthenticationError):
            app.guardrails.check("hello")


def test_rotate_replaces_the_key(gateway: Running, admin: Gateway, tenant: str) -> None:
    old = admin.keys.create(tenant, "rotating", limits={"rpm": 100})
    new = admin.keys.rotate(old.id)
    assert new.replaces == old.id and new.id != old.id and new.secret != old.secret
    assert new.name == "rotating" and new.limits == Limits(rpm=100), "settings carry over"
    assert admin.keys.get(old.id).status == "revoked"
    with Gateway(gateway.url, new.secret, max_retries=0) as app:
        assert app.guardrails.check("hi").flagged is False
    with pytest.raises(BadRequestError) as err:
        admin.keys.rotate(old.id)
    assert err.value.param == "id", "a revoked key cannot be rotated"


def test_update_disable_and_limits(admin: Gateway, tenant: str) -> None:
    key = admin.keys.create(tenant, "limits", allowed_models=["demo"], expires_in_days=1)
    assert admin.keys.disable(key.id).status == "disabled"
    assert admin.keys.enable(key.id).status == "active"
    limited = admin.keys.set_limits(key.id, Limits(rpm=5, tpm=500, max_concurrency=2))
    assert limited.limits == Limits(rpm=5, tpm=500, max_concurrency=2)
    changed = admin.keys.update(key.id, name="renamed", allowed_models=None, expires_at=None)
    assert changed.name == "renamed" and changed.allowed_models is None and changed.expires_at is None
    with pytest.raises(ValueError):
        admin.keys.update(key.id)


def test_resume_enables_a_suspended_key_but_never_a_revoked_one(
    gateway: Running, admin: Gateway, tenant: str
) -> None:
    key = admin.keys.create(tenant, "suspended")
    assert admin.keys.disable(key.id).status == "disabled"
    with Gateway(gateway.url, key.secret, max_retries=0) as app:
        with pytest.raises(AuthenticationError):
            app.guardrails.check("hello")
        resumed = admin.keys.resume(key.id)
        assert resumed.status == "active" and resumed.id == key.id
        assert app.guardrails.check("hello").action == "allow"
    assert [r.target for r in admin.audit.iter(action="key.resume")].count(key.id) == 1
    admin.keys.revoke(key.id)
    with pytest.raises(BadRequestError) as err:
        admin.keys.resume(key.id)
    assert err.value.param == "id"


def test_key_errors(gateway: Running, admin: Gateway, tenant: str) -> None:
    with pytest.raises(NotFoundError):
        admin.keys.get("key_does_not_exist")
    with pytest.raises(BadRequestError) as err:
        admin.keys.create(tenant, "x", roles=["superuser"])
    assert err.value.param == "roles" and "superuser" in err.value.message
    with pytest.raises(BadRequestError) as err:
        admin.keys.create(tenant, "x", expires_in_days=1, expires_at="2030-01-01")
    assert err.value.param == "expires_at"
    # A developer key may not manage keys: 403, not 401.
    dev = admin.keys.create(tenant, "dev")
    with Gateway(gateway.url, dev.secret, max_retries=0) as as_dev:
        with pytest.raises(PermissionDeniedError) as denied:
            as_dev.keys.create(tenant, "sneaky")
    assert denied.value.status == 403
