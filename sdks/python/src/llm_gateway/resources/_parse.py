"""Readers of successful answers, shared by the resources."""

from __future__ import annotations

from typing import Any, Callable, List, Protocol, Type, TypeVar

from ..errors import GatewayError
from ..metadata import ResponseMetadata

R = TypeVar("R", covariant=True)


class FromDict(Protocol[R]):
    def from_dict(self, data: Any) -> R: ...


def _object(data: Any) -> Any:
    if not isinstance(data, dict):
        raise GatewayError(f"the gateway answered with an unexpected body: {str(data)[:200]}")
    return data


def one(cls: FromDict[R]) -> Callable[[Any, ResponseMetadata], R]:
    """A JSON object read as ``cls``."""
    return lambda data, _meta: cls.from_dict(_object(data))


def many(cls: FromDict[R]) -> Callable[[Any, ResponseMetadata], List[R]]:
    """A ``{"object": "list", "data": [...]}`` read as a list of ``cls``."""

    def parse(data: Any, _meta: ResponseMetadata) -> List[R]:
        items = _object(data).get("data")
        if not isinstance(items, list):
            raise GatewayError("the gateway answered a list without 'data'")
        return [cls.from_dict(_object(item)) for item in items]

    return parse


def with_meta(cls: Type[Any]) -> Callable[[Any, ResponseMetadata], Any]:
    """A JSON object read as ``cls`` together with the response metadata."""
    return lambda data, meta: cls.from_dict(_object(data), meta)
