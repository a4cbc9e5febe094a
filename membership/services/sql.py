"""Dialect-aware INSERT ... ON CONFLICT: how invariants hold under concurrent writers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> Any:
    """`insert(table)` of the session's dialect, which knows `on_conflict_do_*` (both do)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_or_ignore(
    session: Session,
    model: Any,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str] | None = None,
) -> int | None:
    """Insert one row unless a unique constraint says it exists; the new primary key, or None.

    Never "check then insert": two transactions doing that both see nothing and both insert.
    """
    stmt = dialect_insert(session, model).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=conflict_columns)
    pk = model.__mapper__.primary_key[0]
    result = session.execute(stmt.returning(pk)).scalar_one_or_none()
    return None if result is None else result
