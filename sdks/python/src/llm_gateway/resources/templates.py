"""``/admin/v1/templates`` and ``/admin/v1/prompts/lint``: a tenant's versioned prompt
templates (docs/templates.md) — create (or add a version), list, get (latest with its
history, or one version), delete, render as a dry run — with the read-only built-in ones
(``builtin.*``), and the prompt linter. Answers are the gateway's JSON objects as dicts."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from .._transport import NOT_GIVEN, Call, body, query, segment
from ._base import AsyncResource, SyncResource
from ._parse import _object

_PATH = "/admin/v1/templates"
_LINT = "/admin/v1/prompts/lint"
Json = Dict[str, Any]


def _one(data: Any, _meta: Any) -> Json:
    return dict(_object(data))


def _many(data: Any, _meta: Any) -> List[Json]:
    items = _object(data).get("data")
    return [dict(_object(item)) for item in (items or [])]


def _given(value: Any) -> Any:
    return NOT_GIVEN if value is None else value


def _path(id: str, rest: str = "") -> str:
    return f"{_PATH}/{segment(id, 'template id')}{rest}"


def _create(
    id: str,
    messages: Optional[Sequence[Mapping[str, str]]],
    prompt: Optional[str],
    variables: Optional[Sequence[Mapping[str, Any]]],
    description: Optional[str],
    tenant: Optional[str],
) -> Call[Json]:
    if (messages is None) == (prompt is None):
        raise ValueError("give either messages or prompt")
    fields = body(
        id=id,
        messages=_given(messages),
        prompt=_given(prompt),
        variables=_given(variables),
        description=_given(description),
        tenant=_given(tenant),
    )
    return Call("POST", _PATH, _one, body=fields)


def _get(id: str, version: Optional[int], tenant: Optional[str]) -> Call[Json]:
    rest = "" if version is None else f"/versions/{int(version)}"
    return Call("GET", _path(id, rest), _one, params=query(tenant=tenant))


def _render(
    id: str, variables: Optional[Mapping[str, Any]], version: Optional[int], tenant: Optional[str]
) -> Call[Json]:
    fields = body(variables=dict(variables or {}), version=_given(version))
    return Call("POST", _path(id, "/render"), _one, params=query(tenant=tenant), body=fields)


def _lint(
    messages: Optional[Sequence[Mapping[str, Any]]],
    prompt: Optional[str],
    variables: Optional[Sequence[Mapping[str, Any]]],
    max_tokens: Optional[int],
    response_format: Optional[Mapping[str, Any]],
) -> Call[Json]:
    fields = body(
        messages=_given(messages),
        prompt=_given(prompt),
        variables=_given(variables),
        max_tokens=_given(max_tokens),
        response_format=_given(response_format),
    )
    return Call("POST", _LINT, _one, body=fields)


class Templates(SyncResource):
    def create(
        self,
        id: str,
        *,
        messages: Optional[Sequence[Mapping[str, str]]] = None,
        prompt: Optional[str] = None,
        variables: Optional[Sequence[Mapping[str, Any]]] = None,
        description: Optional[str] = None,
        tenant: Optional[str] = None,
    ) -> Json:
        """Create template ``id`` (version 1), or its next version; the same definition again
        answers the stored version."""
        return self._send(_create(id, messages, prompt, variables, description, tenant))

    def list(self, tenant: Optional[str] = None) -> List[Json]:
        """The latest version of each template, then the built-in ones."""
        return self._send(Call("GET", _PATH, _many, params=query(tenant=tenant)))

    def get(self, id: str, *, tenant: Optional[str] = None) -> Json:
        """The latest version, with ``versions`` (the history)."""
        return self._send(_get(id, None, tenant))

    def get_version(self, id: str, version: int, *, tenant: Optional[str] = None) -> Json:
        return self._send(_get(id, version, tenant))

    def delete(self, id: str, *, tenant: Optional[str] = None) -> Json:
        """Deletes every version."""
        return self._send(Call("DELETE", _path(id), _one, params=query(tenant=tenant)))

    def render(
        self,
        id: str,
        variables: Optional[Mapping[str, Any]] = None,
        *,
        version: Optional[int] = None,
        tenant: Optional[str] = None,
    ) -> Json:
        """The messages a call naming the template would send (a dry run)."""
        return self._send(_render(id, variables, version, tenant))


class AsyncTemplates(AsyncResource):
    async def create(
        self,
        id: str,
        *,
        messages: Optional[Sequence[Mapping[str, str]]] = None,
        prompt: Optional[str] = None,
        variables: Optional[Sequence[Mapping[str, Any]]] = None,
        description: Optional[str] = None,
        tenant: Optional[str] = None,
    ) -> Json:
        return await self._send(_create(id, messages, prompt, variables, description, tenant))

    async def list(self, tenant: Optional[str] = None) -> List[Json]:
        return await self._send(Call("GET", _PATH, _many, params=query(tenant=tenant)))

    async def get(self, id: str, *, tenant: Optional[str] = None) -> Json:
        return await self._send(_get(id, None, tenant))

    async def get_version(self, id: str, version: int, *, tenant: Optional[str] = None) -> Json:
        return await self._send(_get(id, version, tenant))

    async def delete(self, id: str, *, tenant: Optional[str] = None) -> Json:
        return await self._send(Call("DELETE", _path(id), _one, params=query(tenant=tenant)))

    async def render(
        self,
        id: str,
        variables: Optional[Mapping[str, Any]] = None,
        *,
        version: Optional[int] = None,
        tenant: Optional[str] = None,
    ) -> Json:
        return await self._send(_render(id, variables, version, tenant))


class Prompts(SyncResource):
    def lint(
        self,
        *,
        messages: Optional[Sequence[Mapping[str, Any]]] = None,
        prompt: Optional[str] = None,
        variables: Optional[Sequence[Mapping[str, Any]]] = None,
        max_tokens: Optional[int] = None,
        response_format: Optional[Mapping[str, Any]] = None,
    ) -> Json:
        """Local findings (``rule``, ``severity``, ``location``, ``suggestion``) on a template's
        or a call's messages, or a plain prompt."""
        return self._send(_lint(messages, prompt, variables, max_tokens, response_format))


class AsyncPrompts(AsyncResource):
    async def lint(
        self,
        *,
        messages: Optional[Sequence[Mapping[str, Any]]] = None,
        prompt: Optional[str] = None,
        variables: Optional[Sequence[Mapping[str, Any]]] = None,
        max_tokens: Optional[int] = None,
        response_format: Optional[Mapping[str, Any]] = None,
    ) -> Json:
        return await self._send(_lint(messages, prompt, variables, max_tokens, response_format))
