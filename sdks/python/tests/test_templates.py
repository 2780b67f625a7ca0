"""Prompt templates and the prompt linter against the real gateway, sync and async: versions,
history, a dry-run render, a missing variable named in the 400, built-in templates read-only,
deletion, and lint findings with their rule ids."""

from __future__ import annotations

import asyncio

import pytest
from conftest import Running, unique

from llm_gateway import AsyncGateway, BadRequestError, Gateway, NotFoundError

SYSTEM = {"role": "system", "content": "You answer support tickets. Respond in Markdown, at most 80 words."}


def test_versions_render_and_delete(admin: Gateway) -> None:
    name = unique("reply")
    user = {"role": "user", "content": "Reply to:\n<<<{{ ticket }}>>>"}
    first = admin.templates.create(name, messages=[SYSTEM, user], description="v1", tenant="demo")
    assert (first["version"], first["variables"][0]["name"]) == (1, "ticket")
    again = admin.templates.create(name, messages=[SYSTEM, user], description="v1", tenant="demo")
    assert again["version"] == 1, "the same definition is not a new version"
    second = admin.templates.create(name, prompt="Hi {{ who }}", tenant="demo")
    assert second["version"] == 2

    shown = admin.templates.get(name, tenant="demo")
    assert shown["version"] == 2 and [v["version"] for v in shown["versions"]] == [1, 2]
    assert admin.templates.get_version(name, 1, tenant="demo")["messages"][1] == user

    rendered = admin.templates.render(name, {"ticket": "My invoice is wrong"}, version=1, tenant="demo")
    assert rendered["messages"][1]["content"] == "Reply to:\n<<<My invoice is wrong>>>"
    with pytest.raises(BadRequestError) as missing:
        admin.templates.render(name, {}, version=1, tenant="demo")
    assert "ticket" in str(missing.value)

    assert name in [t["id"] for t in admin.templates.list(tenant="demo")]
    assert admin.templates.delete(name, tenant="demo")["versions"] == 2
    with pytest.raises(NotFoundError):
        admin.templates.get(name, tenant="demo")


def test_builtins_are_listed_rendered_and_read_only(admin: Gateway) -> None:
    builtins = {t["id"] for t in admin.templates.list(tenant="demo") if t["builtin"]}
    assert "builtin.summarise" in builtins and len(builtins) == 6
    out = admin.templates.render("builtin.translate", {"text": "Hello", "target_language": "French"}, tenant="demo")
    assert "French" in out["messages"][1]["content"]
    with pytest.raises(BadRequestError):
        admin.templates.delete("builtin.translate", tenant="demo")


def test_lint_names_its_rules(admin: Gateway) -> None:
    report = admin.prompts.lint(messages=[{"role": "system", "content": "You help {{ customer }}."}])
    rules = [f["rule"] for f in report["findings"]]
    assert rules == ["variable-in-system-prompt", "missing-output-format", "unbounded-length"]
    assert report["summary"] == {"errors": 1, "warnings": 1, "info": 1}
    clean = admin.prompts.lint(prompt="List three colours as JSON, one word each.", max_tokens=50)
    assert clean["findings"] == []


def test_async_templates(gateway: Running) -> None:
    async def main() -> None:
        async with AsyncGateway(gateway.url, gateway.admin_token, max_retries=0) as admin:
            name = unique("async-tpl")
            made = await admin.templates.create(name, prompt="Say {{ word }}", tenant="demo")
            assert made["version"] == 1
            assert (await admin.templates.get_version(name, 1, tenant="demo"))["prompt"] == "Say {{ word }}"
            out = await admin.templates.render(name, {"word": "hi"}, tenant="demo")
            assert out["messages"] == [{"role": "user", "content": "Say hi"}]
            assert (await admin.prompts.lint(prompt="Say hi in one word."))["findings"] == []
            assert (await admin.templates.delete(name, tenant="demo"))["deleted"] is True
            with pytest.raises(NotFoundError):
                await admin.templates.get(name, tenant="demo")

    asyncio.run(main())
