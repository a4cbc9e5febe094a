"""Addresses we no longer send newsletters or lifecycle email to: bounced (an SMTP 5xx from our
own server, recorded by the outbox) or named by an email provider's bounce/complaint list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from membership.models import EmailSuppression
from membership.services.sql import insert_or_ignore
from membership.services.supporters import normalize_email

REASONS = ("bounce", "complaint")


def suppress_address(
    session: Session, address: str, *, reason: str, detail: str = "", now: datetime
) -> bool:
    """True when the address is newly suppressed (a second bounce changes nothing)."""
    row = insert_or_ignore(
        session,
        EmailSuppression,
        {
            "address": normalize_email(address),
            "reason": reason,
            "detail": detail[:500],
            "created_at": now,
        },
        ["address"],
    )
    return row is not None


def is_suppressed(session: Session, address: str) -> bool:
    return session.get(EmailSuppression, normalize_email(address)) is not None
