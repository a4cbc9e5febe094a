"""Importing a CSV of addresses as confirmed subscribers, on a consent basis staff declare."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from membership.addresses import address_problem
from membership.models import (
    ConsentEvent,
    ConsentKind,
    StaffMember,
    Subscriber,
    SubscriberStatus,
    Supporter,
    utcnow,
)
from membership.services.errors import ServiceError
from membership.services.sql import dialect_insert
from membership.services.staff import audit
from membership.services.supporters import normalize_email

EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address", "mail", "emailaddress"}
MAX_IMPORT_ROWS = 100_000
MIN_BASIS_LENGTH = 10
_CHUNK = 500


class ImportFileError(ServiceError):
    """The file cannot be read as a list of addresses; the message says what to do."""


@dataclass(frozen=True)
class ImportLine:
    line: int
    value: str
    reason: str = ""


@dataclass
class ImportReport:
    rows: int = 0
    valid: list[ImportLine] = field(default_factory=list)
    invalid: list[ImportLine] = field(default_factory=list)
    duplicates: list[ImportLine] = field(default_factory=list)
    already_subscribed: list[ImportLine] = field(default_factory=list)
    already_unsubscribed: list[ImportLine] = field(default_factory=list)
    imported: int = 0
    applied: bool = False


def read_addresses(data: bytes) -> Iterator[tuple[int, str]]:
    """(line number, cell) for each row's email cell. Accepts a BOM, commas, semicolons or tabs,
    with or without a header row; with a header, the column named email (or similar) is used."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is not UTF-8 text. Save it from your spreadsheet as "
            "'CSV UTF-8' and try again."
        ) from None
    if "\x00" in text:
        raise ImportFileError("That looks like a binary file, not CSV. Export it as CSV first.")
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise ImportFileError("The file is empty.")
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    column: int | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if column is None:
                names = [cell.strip().lower().lstrip("\ufeff") for cell in row]
                named = [i for i, name in enumerate(names) if name in EMAIL_HEADERS]
                if named:
                    column = named[0]
                    continue
                with_at = [i for i, cell in enumerate(row) if "@" in cell]
                if not with_at:
                    raise ImportFileError(
                        "No email column found: name the column 'email' in the first row."
                    )
                column = with_at[0]
            yield reader.line_num, row[column].strip() if column < len(row) else ""
    except csv.Error as error:
        raise ImportFileError(
            f"The file is not valid CSV near line {reader.line_num}: {error}"
        ) from None


def check_import(session: Session, data: bytes) -> ImportReport:
    """The dry run: what an import of this file would do, changing nothing."""
    report = ImportReport()
    seen: dict[str, int] = {}
    candidates: list[ImportLine] = []
    for line, value in read_addresses(data):
        report.rows += 1
        if report.rows > MAX_IMPORT_ROWS:
            raise ImportFileError(f"The file has more than {MAX_IMPORT_ROWS:,} rows; split it up.")
        problem = address_problem(value)
        if problem:
            report.invalid.append(ImportLine(line, value[:320], problem))
            continue
        address = normalize_email(value)
        if address in seen:
            report.duplicates.append(
                ImportLine(line, value, f"same address as line {seen[address]}")
            )
            continue
        seen[address] = line
        candidates.append(ImportLine(line, address))
    for start in range(0, len(candidates), _CHUNK):
        chunk = candidates[start : start + _CHUNK]
        existing = dict(
            session.execute(
                select(Subscriber.email, Subscriber.status).where(
                    Subscriber.email.in_([item.value for item in chunk])
                )
            ).all()
        )
        for item in chunk:
            status = existing.get(item.value)
            if status is None:
                report.valid.append(item)
            elif status is SubscriberStatus.UNSUBSCRIBED:
                report.already_unsubscribed.append(
                    ImportLine(
                        item.line, item.value, "unsubscribed: an import never adds them back"
                    )
                )
            else:
                report.already_subscribed.append(
                    ImportLine(item.line, item.value, f"already on the list ({status.value})")
                )
    return report


def import_subscribers(
    session: Session,
    data: bytes,
    *,
    basis: str,
    source: str,
    staff_member_id: int | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Add the file's new addresses as confirmed subscribers on the declared consent basis.

    Only addresses not on the list at all are added: an unsubscribed person is never put back,
    and pending or confirmed ones are left as they are. Each added address gets an IMPORT event
    carrying the basis, the source and who imported it.
    """
    basis = " ".join(basis.split())
    if len(basis) < MIN_BASIS_LENGTH:
        raise ImportFileError(
            "Say on what basis these people agreed to get the newsletter "
            "(for example: 'signed up on paper at the 2026 book fair')."
        )
    when = now or utcnow()
    report = check_import(session, data)
    for start in range(0, len(report.valid), _CHUNK):
        chunk = report.valid[start : start + _CHUNK]
        stmt = (
            dialect_insert(session, Subscriber.__table__)
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(Subscriber.__table__.c.id)
        )
        ids = session.scalars(
            stmt,
            [
                {
                    "email": item.value,
                    "status": SubscriberStatus.CONFIRMED,
                    "source": source[:120],
                    "created_at": when,
                    "confirmed_at": when,
                }
                for item in chunk
            ],
        ).all()
        if not ids:
            continue
        session.execute(
            dialect_insert(session, ConsentEvent.__table__),
            [
                {
                    "subscriber_id": subscriber_id,
                    "kind": ConsentKind.IMPORT,
                    "occurred_at": when,
                    "source": source[:120],
                    "basis": basis,
                    "staff_member_id": staff_member_id,
                }
                for subscriber_id in ids
            ],
        )
        session.execute(
            update(Subscriber)
            .where(Subscriber.id.in_(ids), Subscriber.supporter_id.is_(None))
            .values(
                supporter_id=select(Supporter.id)
                .where(Supporter.email == Subscriber.email)
                .scalar_subquery()
            )
            .execution_options(synchronize_session=False)
        )
        report.imported += len(ids)
    report.applied = True
    actor = session.get(StaffMember, staff_member_id) if staff_member_id is not None else None
    if actor is not None:
        audit.record(
            session,
            actor,
            "newsletter.imported",
            target_type="newsletter",
            details={"source": source[:120], "basis": basis, "imported": report.imported},
        )
    session.flush()
    return report
