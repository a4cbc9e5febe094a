"""Dialect-aware INSERT ... ON CONFLICT: how invariants hold under concurrent writers."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

M = TypeVar("M")


def dialect_insert(session: Session, table: Any) -> Any:
    """`insert(table)` of the session's dialect, which knows `on_conflict_do_*` (both do)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_or_ignore(
    session: Session,
    model: type[M],
    values: Mapping[str, Any],
    conflict_columns: Sequence[str] | None = None,
) -> M | None:
    """Insert one row unless a unique constraint says it exists: the new object, or None.

    Never "check then insert": two transactions doing that both see nothing and both insert.
    RETURNING gives the new row as an ORM object without a second query.
    """
    # The values go in as parameters, not into the statement: one cached statement per model.
    key: Any = model  # mapped classes are hashable; mypy cannot see it through type[M]
    stmt = _insert_ignoring(session.get_bind().dialect.name, key, tuple(conflict_columns or ()))
    return session.scalars(stmt, [dict(values)]).one_or_none()


@functools.cache
def _insert_ignoring(dialect: str, model: Any, conflict_columns: tuple[str, ...]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(model)
        .on_conflict_do_nothing(index_elements=list(conflict_columns) or None)
        .returning(model)
    )
