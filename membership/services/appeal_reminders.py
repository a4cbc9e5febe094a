""" "Remind me later": a reader leaves an address and gets one reminder to support us, 30 days on.

No newsletter sign-up is implied; the wording they agreed to is recorded with the request; the
address is blanked as soon as the reminder is queued or cancelled.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.appeal_reminders import appeal_reminder_email
from membership.models import AppealReminder, Supporter
from membership.services.outbox import queue_email
from membership.services.privacy import Row, register_personal_data, row_dict
from membership.services.supporters import normalize_email

REMIND_AFTER = timedelta(days=30)
_SALT = "appeal-reminder"


def reminder_consent_wording(config: Config) -> str:
    return (
        f"Email me once, in 30 days, to remind me to support {config.publication_name}. "
        "Nothing else: this is not a newsletter sign-up, and my address is deleted once the "
        "reminder is sent."
    )


def reminder_token(config: Config, reminder_id: int) -> str:
    return Signer(config.secret_key, salt=_SALT).sign(str(reminder_id)).decode()


def _reminder_of(session: Session, config: Config, token: str) -> AppealReminder | None:
    try:
        raw = Signer(config.secret_key, salt=_SALT).unsign(token[:100]).decode()
    except BadSignature:
        return None
    return session.get(AppealReminder, int(raw)) if raw.isdecimal() else None


def ask_for_reminder(
    session: Session, *, email: str, source: str, config: Config, now: datetime
) -> AppealReminder:
    """Record the request (one pending reminder per address: asking twice changes nothing)."""
    address = normalize_email(email)
    pending = session.scalar(
        select(AppealReminder).where(
            AppealReminder.email == address, AppealReminder.sent_at.is_(None)
        )
    )
    if pending is not None:
        return pending
    reminder = AppealReminder(
        email=address,
        consent_wording=reminder_consent_wording(config),
        consented_at=now,
        source=source[:120],
        remind_at=now + REMIND_AFTER,
    )
    session.add(reminder)
    session.flush()
    return reminder


def cancel_reminder(session: Session, *, token: str, config: Config, now: datetime) -> bool:
    """The reader's "don't remind me": the address goes at once. False for an unknown token."""
    reminder = _reminder_of(session, config, token)
    if reminder is None:
        return False
    if reminder.sent_at is None and reminder.cancelled_at is None:
        reminder.cancelled_at = now
        reminder.email = None
        session.flush()
    return True


def queue_due_reminders(session: Session, *, config: Config, now: datetime) -> int:
    """Queue each due reminder once (dedupe key per request) and forget its address."""
    due = session.scalars(
        select(AppealReminder)
        .where(
            AppealReminder.sent_at.is_(None),
            AppealReminder.cancelled_at.is_(None),
            AppealReminder.remind_at <= now,
            AppealReminder.email.is_not(None),
        )
        .order_by(AppealReminder.id)
    ).all()
    for reminder in due:
        if reminder.email is None:  # pragma: no cover - filtered above
            continue
        email = appeal_reminder_email(
            config,
            to=reminder.email,
            cancel_url=f"{config.base_url.rstrip('/')}/support/remind/cancel/"
            f"{reminder_token(config, reminder.id)}",
        )
        queue_email(session, email, dedupe_key=f"appeal_reminder:{reminder.id}", now=now)
        reminder.sent_at = now
        reminder.email = None
    session.flush()
    return len(due)


def _reminders_of(session: Session, supporter: Supporter) -> list[AppealReminder]:
    if not supporter.email:
        return []
    address = normalize_email(supporter.email)
    return list(
        session.scalars(
            select(AppealReminder)
            .where(AppealReminder.email == address)
            .order_by(AppealReminder.id)
        )
    )


def export_reminder_data(session: Session, supporter: Supporter) -> dict[str, list[Row]]:
    """Pending "remind me later" requests under the supporter's address (sent ones kept none)."""
    return {"appeal_reminder": [row_dict(r) for r in _reminders_of(session, supporter)]}


def erase_reminder_data(session: Session, supporter: Supporter) -> None:
    for reminder in _reminders_of(session, supporter):
        session.delete(reminder)
    session.flush()


register_personal_data(export_reminder_data, erase_reminder_data)
