"""Configuration checks with the gateway's own validation, and the model list."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Running, gateway_binary

from llm_gateway import Gateway, GatewayError, validate_config


def test_a_valid_file(tmp_path: Path) -> None:
    cfg = tmp_path / "gateway.toml"
    cfg.write_text('[admin]\ntoken = "0123456789abcdef0123"\n')
    check = validate_config(cfg, binary=gateway_binary())
    assert check.valid and check.exit_code == 0 and check.problems == [], check.output


def test_every_problem_with_its_key_path(tmp_path: Path) -> None:
    cfg = tmp_path / "gateway.toml"
    cfg.write_text('[server]\nlisten = "nowhere"\n\n[models.a]\nprovider = "nope"\n')
    check = validate_config(str(cfg), binary=gateway_binary())
    assert not check.valid and check.exit_code == 2
    assert [p.split(":")[0] for p in check.problems] == ["server", "models.a"], check.problems


def test_no_binary_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GatewayError):
        validate_config(tmp_path / "x.toml", binary=str(tmp_path / "no-such-binary"))


def test_models(gateway: Running) -> None:
    with Gateway(gateway.url, gateway.demo_key) as app:
        models = app.models.list()
    assert "demo" in [m.id for m in models]
