"""Columns of the report tables: one list per table drives both its page and its CSV file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Column:
    """A row attribute with its heading; `money` says it holds minor units of the currency."""

    name: str
    title: str
    money: bool = False

    def value_of(self, row: object) -> Any:
        return getattr(row, self.name)
