"""The outbox's emails of one kind are found through an index: the staff page counts the
newsletter welcome (which has no other record) by `email_message.kind`, and that must not scan
every email ever queued. Checked on the statement the page's service really sends, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from membership.extensions import db
from membership.models import EmailMessage, EmailStatus
from membership.services.lifecycle.stats import kind_stats

pytestmark = pytest.mark.usefixtures("app_context")

INDEX = "ix_email_message_kind_status"


def _statements(run: Any) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "email_message" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def _plan(statement: str, parameters: Any) -> str:
    connection = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return "\n".join(str(row[-1]) for row in rows)
    # A handful of rows: without this PostgreSQL scans whatever indexes exist.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    return "\n".join(str(row[0]) for row in rows)


@pytest.fixture
def outbox() -> Iterator[None]:
    for n, (kind, status) in enumerate(
        [("newsletter_welcome", EmailStatus.SENT), ("newsletter_welcome", EmailStatus.QUEUED),
         ("receipt", EmailStatus.SENT), ("sign_in", EmailStatus.FAILED)]
    ):  # fmt: skip
        db.session.add(
            EmailMessage(
                kind=kind,
                to_address=f"r{n}@example.org",
                subject="s",
                text_body="t",
                status=status,
            )
        )
    db.session.commit()
    yield
    db.session.rollback()


def test_the_newsletter_welcome_is_counted_through_the_kind_index(outbox: None) -> None:
    result: dict[str, Any] = {}
    statements = _statements(
        lambda: result.setdefault("stats", kind_stats(db.session(), "newsletter_welcome"))
    )
    stats = result["stats"]
    assert (stats.sent, stats.queued, stats.failed) == (1, 1, 0)
    assert statements, "the stats did not read email_message"
    for statement, parameters in statements:
        plan = _plan(statement, parameters)
        assert INDEX in plan, plan
        assert "SCAN email_message" not in plan and "Seq Scan on email_message" not in plan, plan
