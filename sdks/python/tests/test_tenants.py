"""Tenants against the real gateway: the whole life cycle, and the errors it can answer."""

from __future__ import annotations

import pytest
from conftest import Running, unique

from llm_gateway import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Gateway,
    Limits,
    NotFoundError,
)


def test_tenant_life_cycle(admin: Gateway) -> None:
    tid = unique("acme")
    created = admin.tenants.create(tid, name="Acme Corp", allowed_models=["demo"], limits={"rpm": 600})
    assert created.id == tid and created.name == "Acme Corp" and created.enabled
    assert created.allowed_models == ["demo"]
    assert created.limits == Limits(rpm=600)
    assert created.created_at is not None and created.created_at.tzinfo is not None

    assert admin.tenants.get(tid) == created
    assert tid in [t.id for t in admin.tenants.list()]

    disabled = admin.tenants.disable(tid)
    assert disabled.enabled is False
    assert admin.tenants.enable(tid).enabled is True

    limited = admin.tenants.set_limits(tid, Limits(tpm=1000, budget_usd_daily=5.0))
    assert limited.limits == Limits(tpm=1000, budget_usd_daily=5.0), "limits are replaced whole"

    cleared = admin.tenants.update(tid, allowed_models=None, name="Acme")
    assert cleared.allowed_models is None and cleared.name == "Acme"
    assert admin.tenants.update(tid, allowed_regions=["eu"]).allowed_regions == ["eu"]

    deleted = admin.tenants.delete(tid)
    assert deleted.deleted and deleted.id == tid
    with pytest.raises(NotFoundError) as err:
        admin.tenants.get(tid)
    assert err.value.status == 404 and tid in err.value.message
    assert err.value.request_id, "every error carries the gateway's request id"


def test_duplicate_tenant_is_a_conflict(admin: Gateway) -> None:
    tid = unique("dup")
    admin.tenants.create(tid)
    with pytest.raises(ConflictError) as err:
        admin.tenants.create(tid)
    assert err.value.code == "already_exists" and err.value.status == 400
    assert isinstance(err.value, BadRequestError)


def test_invalid_tenant_id_names_the_param(admin: Gateway) -> None:
    with pytest.raises(BadRequestError) as err:
        admin.tenants.create("not a valid id!")
    assert err.value.param == "id" and err.value.type == "invalid_request_error"


def test_ids_cannot_escape_their_path(admin: Gateway) -> None:
    # Percent-encoded as one segment: the gateway sees an unknown tenant, not another path.
    with pytest.raises(NotFoundError):
        admin.tenants.get("../keys")
    with pytest.raises(ValueError):
        admin.tenants.get("..")


def test_wrong_token_is_authentication_error(gateway: Running) -> None:
    with Gateway(gateway.url, "wrong-token-0123456789abcdef", max_retries=0) as bad:
        with pytest.raises(AuthenticationError) as err:
            bad.tenants.list()
    assert err.value.status == 401 and err.value.code == "invalid_api_key"
