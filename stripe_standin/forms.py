"""Parse Stripe-style nested form parameters (``a[b][0][c]=v``) into dicts and lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART_RE = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A parameter name that cannot be parsed."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def _split_key(key: str) -> list[str]:
    match = _KEY_RE.match(key)
    if match is None:
        raise FormError(f"Invalid parameter name: {key}", key)
    return [match.group(1), *_PART_RE.findall(match.group(2))]


def _listify(value: Any) -> Any:
    """Turn dicts whose keys are all integers into lists ordered by index."""
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(value, list):
        return [_listify(v) for v in value]
    return value


def parse_nested(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Build a nested structure from flat ``(key, value)`` pairs.

    ``key[]`` appends to a list; numeric indexes become list positions.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _split_key(key)
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            if part == "":
                # ``key[]``: append, i.e. the next free integer index.
                part = str(sum(1 for k in node if k.isdigit()))
            if i == len(parts) - 1:
                node[part] = value
                break
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
    result: dict[str, Any] = _listify(root)
    return result
