"""Typed reads of Stripe's JSON: a missing optional field is None, a missing required one (or a
field of the wrong type) raises `StripeDataError`, which names the object and the field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


class StripeDataError(ValueError):
    """A Stripe object without a field we need, or with a field of the wrong type."""


class Fields:
    """Typed reads of one JSON object; every nested read goes through another `Fields`."""

    def __init__(self, data: object, what: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise StripeDataError(f"{what} is not an object")
        self._data: Mapping[str, Any] = data
        self.what = what

    def nested(self, key: str) -> Fields:
        """A nested object; missing or null reads as an empty one."""
        return Fields(self._data.get(key), f"{self.what}.{key}")

    def items(self, key: str) -> list[Fields]:
        """The `data` of a nested list object (`{"object": "list", "data": [...]}`)."""
        listed = self.nested(key)._data.get("data")
        if listed is None:
            return []
        if not isinstance(listed, list):
            raise StripeDataError(f"{self.what}.{key}.data is not a list")
        return [Fields(item, f"{self.what}.{key}[{n}]") for n, item in enumerate(listed)]

    def text(self, key: str) -> str | None:
        value = self._data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise StripeDataError(f"{self.what}.{key} is not a string")
        return value

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise StripeDataError(f"{self.what} has no {key}")
        return value

    def reference(self, key: str) -> str | None:
        """An id field, whether Stripe sent the id or expanded it into the object."""
        value = self._data.get(key)
        if isinstance(value, Mapping):
            value = value.get("id")
        return value if isinstance(value, str) and value else None

    def whole(self, key: str) -> int | None:
        """A whole number, or None when absent or not one (metadata holds numbers as text)."""
        value = self._data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return None
        return None

    def flag(self, key: str) -> bool:
        return bool(self._data.get(key))

    def timestamp(self, key: str) -> datetime | None:
        """A Unix time as an aware UTC datetime; absent or empty is None."""
        value = self._data.get(key)
        if value is None or value == "":
            return None
        seconds = self.whole(key)
        if seconds is None:
            raise StripeDataError(f"{self.what}.{key} is not a Unix time")
        return datetime.fromtimestamp(seconds, tz=UTC)

    def raw(self, key: str) -> object:
        """The field as Stripe sent it, to tell an id from an expanded object."""
        return self._data.get(key)

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def objects(self, key: str) -> list[Mapping[str, Any]]:
        """A list of raw objects, each to be parsed by its own class."""
        value = self._data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            raise StripeDataError(f"{self.what}.{key} is not a list of objects")
        return value
