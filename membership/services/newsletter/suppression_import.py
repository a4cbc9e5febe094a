"""`flask newsletter suppress FILE.csv`: an email provider's bounce or complaint list, imported
into the suppression list (`services.suppression`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from membership.addresses import address_problem
from membership.services.errors import ServiceError
from membership.services.newsletter.list_import import ImportFileError, read_addresses
from membership.services.suppression import REASONS, suppress_address

MAX_ROWS = 200_000


class SuppressionError(ServiceError):
    """The list cannot be imported; the message says what to do."""


@dataclass
class SuppressionReport:
    added: int = 0
    already: int = 0
    problems: list[str] = field(default_factory=list)


def import_suppressions(
    session: Session, data: bytes, *, default_reason: str | None, now: datetime
) -> SuppressionReport:
    """Every valid address in the CSV (an `email` column, or one address per row) suppressed with
    `default_reason` (bounce unless told); unreadable rows reported, not fatal."""
    reason = default_reason or "bounce"
    if reason not in REASONS:
        raise SuppressionError(f"The reason must be one of {', '.join(REASONS)}.")
    report = SuppressionReport()
    try:
        for count, (line, cell) in enumerate(read_addresses(data), start=1):
            if count > MAX_ROWS:
                raise SuppressionError(f"Import at most {MAX_ROWS:,} rows at a time.")
            problem = address_problem(cell)
            if problem:
                report.problems.append(f"line {line}: {cell[:80]!r}: {problem}")
            elif suppress_address(session, cell, reason=reason, detail="imported", now=now):
                report.added += 1
            else:
                report.already += 1
    except ImportFileError as error:
        raise SuppressionError(error.message) from None
    session.flush()
    return report
