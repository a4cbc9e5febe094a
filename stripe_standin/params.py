"""Reading Stripe request parameters: typed values with Stripe's error messages, metadata merging."""

from __future__ import annotations

import json
from typing import Any

from stripe_standin.errors import StripeError


def as_dict(value: Any, param: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeError(f"Invalid object: {param} must be a hash", param=param)
    return value


def as_int(value: Any, param: str, *, positive: bool = False, minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise StripeError(f"Invalid integer: {value}", param=param)
    if isinstance(value, int):
        result = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        result = int(value.strip())
    else:
        raise StripeError(f"Invalid integer: {value}", param=param)
    if positive and result <= 0:
        raise StripeError(f"Invalid {param}: must be greater than 0", param=param)
    if minimum is not None and result < minimum:
        raise StripeError(f"Invalid {param}: must be at least {minimum}", param=param)
    return result


def as_bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise StripeError(f"Invalid boolean: {value}", param=param)


def as_str(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise StripeError(f"Invalid string: {param}", param=param)
    return value


def merge_metadata(current: dict[str, Any], update: Any, param: str = "metadata") -> dict[str, Any]:
    """Stripe metadata semantics: ``""`` clears all, a key set to ``""`` is removed."""
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise StripeError("Invalid object: metadata must be a hash", param=param)
    merged = dict(current)
    for key, value in update.items():
        if not isinstance(value, str):
            value = json.dumps(value) if not isinstance(value, int | float) else str(value)
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
