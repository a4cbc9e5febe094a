"""Signed-in sessions kept on the server: opened at sign-in, checked on every request, revoked
at sign-out, by "sign out everywhere", and when a staff member's role or access changes.

The browser's cookie holds a random session id; the row keeps only its hash. Staff sessions end
after `STAFF_SESSION_IDLE_MINUTES` without a request and `STAFF_SESSION_MAX_HOURS` in all;
supporters' after `SUPPORTER_SESSION_DAYS` (the lifetime of their cookie).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import AccountKind, AccountSession, StaffMember, Supporter

Account = Supporter | StaffMember

SUPPORTER_SESSION_DAYS = 31
# How stale `last_seen_at` may get before a request writes it again: one write a minute at most.
TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, account: Account, *, config: Config, now: datetime) -> str:
    """A new session for `account`; returns the id for the browser's cookie."""
    token = secrets.token_urlsafe(32)
    staff = isinstance(account, StaffMember)
    lifetime = (
        timedelta(hours=config.staff_session_max_hours)
        if staff
        else timedelta(days=SUPPORTER_SESSION_DAYS)
    )
    session.add(
        AccountSession(
            token_hash=_hash(token),
            kind=AccountKind.STAFF if staff else AccountKind.SUPPORTER,
            staff_id=account.id if staff else None,
            supporter_id=None if staff else account.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def live_session(
    session: Session, token: str, account: Account, *, config: Config, now: datetime
) -> AccountSession | None:
    """The session row for this cookie's id if it belongs to `account` and still works."""
    if not 20 <= len(token) <= 100:
        return None
    row = session.scalar(select(AccountSession).where(AccountSession.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if isinstance(account, StaffMember):
        if row.staff_id != account.id:
            return None
        if now - row.last_seen_at > timedelta(minutes=config.staff_session_idle_minutes):
            return None
    elif row.supporter_id != account.id:
        return None
    return row


def needs_touch(row: AccountSession, now: datetime) -> bool:
    return now - row.last_seen_at >= TOUCH_EVERY


def touch(connection: Connection, session_id: int, now: datetime) -> None:
    """Record activity, on a connection of its own: a GET's transaction is never committed."""
    connection.execute(
        update(AccountSession)
        .where(AccountSession.id == session_id, AccountSession.revoked_at.is_(None))
        .values(last_seen_at=now)
    )


def revoke_session(session: Session, token: str, now: datetime) -> None:
    """Sign-out: this browser's session stops working, wherever a copy of its cookie is."""
    session.execute(
        update(AccountSession)
        .where(AccountSession.token_hash == _hash(token), AccountSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke_all_sessions(session: Session, account: Account, now: datetime) -> None:
    """Every session of `account` stops working (sign out everywhere, a role or access change)."""
    column = (
        AccountSession.staff_id if isinstance(account, StaffMember) else AccountSession.supporter_id
    )
    session.execute(
        update(AccountSession)
        .where(
            column == account.id,
            AccountSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
