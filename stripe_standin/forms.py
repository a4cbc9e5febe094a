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
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if part != "":
                    raise FormError(f"Invalid array parameter: {key}", key)
                if last:
                    node.append(value)
                else:
                    child: Any = {}
                    node.append(child)
                    node = child
                continue
            if last:
                node[part] = value
                break
            next_is_append = parts[i + 1] == ""
            existing = node.get(part)
            if existing is None or isinstance(existing, str):
                existing = [] if next_is_append else {}
                node[part] = existing
            elif next_is_append and not isinstance(existing, list):
                raise FormError(f"Invalid array parameter: {key}", key)
            node = existing
    result: dict[str, Any] = _listify(root)
    return result
