"""Signing in, for supporters and staff alike: emailed one-time links, optional passwords, and
ending every session of an account ("sign out everywhere")."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from membership.config import Config
from membership.emails.sign_in import sign_in_email
from membership.models import (
    AccountKind,
    EmailMessage,
    EmailStatus,
    SignInToken,
    StaffMember,
    Supporter,
)
from membership.secret_strength import password_problem
from membership.services import password_delay
from membership.services.account_sessions import revoke_all_sessions
from membership.services.errors import ServiceError
from membership.services.outbox import queue_email
from membership.services.sql import insert_or_ignore
from membership.services.supporters import normalize_email

Account = Supporter | StaffMember

MAX_NEXT_LENGTH = 500
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class SignInError(ServiceError):
    """Signing in (or setting a password) cannot go ahead; the message is for the person."""


class PasswordDelayed(SignInError):
    """Too many wrong passwords for this address lately: wait, or use an emailed link."""

    def __init__(self, wait: timedelta) -> None:
        self.seconds = max(1, math.ceil(wait.total_seconds()))
        super().__init__(
            "There have been several wrong passwords for this address, so password sign-in for "
            f"it is paused for {self.seconds} seconds. An emailed link signs you in now."
        )


class SignInLinksCapped(SignInError):
    """This address got as many sign-in emails as it may for now. The same is said for every
    address (unknown ones get links too), so it reveals nothing."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            "We've already emailed several sign-in links to this address recently, so we won't "
            f"send another before {until:%H:%M} UTC on {until:%d %B}. Use the newest link in "
            "that inbox (check the spam folder too), or sign in with your password below."
        )


class SignInLinkInvalid(SignInError):
    """Unknown, tampered, used or expired: one message for all, so nothing is revealed."""

    def __init__(self) -> None:
        super().__init__(
            "This sign-in link has expired or has already been used. Links work once, for "
            "10 minutes. Ask for a new one below."
        )


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_browser_nonce() -> str:
    return secrets.token_urlsafe(24)


def safe_next_path(raw: str | None) -> str | None:
    """`raw` if it is a path on this site ("/account/..."), else None: never another origin."""
    if not raw or len(raw) > MAX_NEXT_LENGTH:
        return None
    if not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in raw):
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return None
    return raw


def landing_path(account: Account, next_path: str | None) -> str:
    """Where a signed-in person goes: the safe `next` path, else their own home."""
    default = "/account" if isinstance(account, Supporter) else "/staff"
    return safe_next_path(next_path) or default


# Sign-in by emailed link


def _active_staff(session: Session, address: str) -> StaffMember | None:
    return session.scalar(
        select(StaffMember).where(StaffMember.email == address, StaffMember.active.is_(True))
    )


def _supporter_by_email(session: Session, address: str) -> Supporter | None:
    return session.scalar(select(Supporter).where(Supporter.email == address))


def request_sign_in_link(
    session: Session,
    *,
    email: str,
    browser_nonce: str,
    next_path: str | None,
    config: Config,
    now: datetime,
) -> None:
    """Store a new link's hash and queue the email with the link.

    The same work happens whether or not anyone has this address, so neither the answer nor
    its timing tells a stranger who has an account. An unknown address gets a working link
    too: its supporter row is created when the link is used, once the address is proven.
    """
    address = normalize_email(email)
    _refuse_past_the_email_cap(session, address, config, now)
    staff = _active_staff(session, address)
    supporter = None if staff is not None else _supporter_by_email(session, address)
    token = secrets.token_urlsafe(32)
    row = SignInToken(
        token_hash=hash_secret(token),
        kind=AccountKind.STAFF if staff is not None else AccountKind.SUPPORTER,
        email=address,
        supporter_id=supporter.id if supporter is not None else None,
        staff_id=staff.id if staff is not None else None,
        browser_hash=hash_secret(browser_nonce),
        next_path=safe_next_path(next_path) or "",
        created_at=now,
        expires_at=now + timedelta(minutes=config.sign_in_link_minutes),
    )
    session.add(row)
    session.flush()
    queue_email(
        session,
        sign_in_email(config, to=address, token=token),
        dedupe_key=f"sign_in:{row.id}",
        now=now,
    )


def _refuse_past_the_email_cap(
    session: Session, address: str, config: Config, now: datetime
) -> None:
    """However many networks ask, an address gets at most so many sign-in emails an hour and a
    day (each link request from one network is limited apart, by the rate limiter)."""
    for window, cap in (
        (timedelta(hours=1), config.sign_in_emails_per_hour),
        (timedelta(days=1), config.sign_in_emails_per_day),
    ):
        sent = session.scalars(
            select(SignInToken.created_at)
            .where(SignInToken.email == address, SignInToken.created_at > now - window)
            .order_by(SignInToken.created_at.desc())
            .limit(cap)
        ).all()
        if len(sent) >= cap:
            # The oldest of the last `cap` emails leaves the window first.
            raise SignInLinksCapped(until=sent[-1] + window)


@dataclass(frozen=True)
class LinkCheck:
    same_browser: bool
    kind: AccountKind


def check_sign_in_link(
    session: Session, token: str, *, browser_nonce: str | None, now: datetime
) -> LinkCheck:
    """Whether a link can still be used, without using it (mail scanners open links too)."""
    row = _usable_token(session, token, now)
    same = browser_nonce is not None and secrets.compare_digest(
        row.browser_hash, hash_secret(browser_nonce)
    )
    return LinkCheck(same_browser=same, kind=row.kind)


def _usable_token(session: Session, token: str, now: datetime) -> SignInToken:
    if not _TOKEN_RE.match(token):
        raise SignInLinkInvalid()
    row = session.scalar(select(SignInToken).where(SignInToken.token_hash == hash_secret(token)))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise SignInLinkInvalid()
    return row


def use_sign_in_link(session: Session, token: str, *, now: datetime) -> tuple[Account, str]:
    """Spend the link: the account it signs in, and where to go next.

    One conditional UPDATE marks it used, so two clicks at the same moment sign in once.
    """
    if not _TOKEN_RE.match(token):
        raise SignInLinkInvalid()
    token_id = session.execute(
        update(SignInToken)
        .where(
            SignInToken.token_hash == hash_secret(token),
            SignInToken.used_at.is_(None),
            SignInToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInToken.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if token_id is None:
        raise SignInLinkInvalid()
    row = session.get(SignInToken, token_id)
    if row is None:  # pragma: no cover - updated just above in this transaction
        raise SignInLinkInvalid()
    _forget_link_in_outbox(session, row.id)
    account: Account | None
    if row.kind is AccountKind.STAFF:
        account = session.get(StaffMember, row.staff_id) if row.staff_id else None
        if account is None or not account.active:
            raise SignInError("This staff account is closed. Ask an admin to reopen it.")
    else:
        account = _supporter_for_proven_address(session, row)
        account.last_sign_in_at = now
    session.flush()
    return account, row.next_path


def _supporter_for_proven_address(session: Session, row: SignInToken) -> Supporter:
    supporter = session.get(Supporter, row.supporter_id) if row.supporter_id else None
    if supporter is None:
        supporter = _supporter_by_email(session, row.email)
    if supporter is None:
        # The address is proven now: a reader who never gave may keep preferences here. The
        # insert ignores a concurrent one (e.g. a webhook creating the same person).
        insert_or_ignore(session, Supporter, {"email": row.email, "name": ""}, ["email"])
        supporter = _supporter_by_email(session, row.email)
    if supporter is None or not supporter.active:
        raise SignInError("This account is closed.")
    return supporter


def _forget_link_in_outbox(session: Session, token_id: int) -> None:
    """The sent email's body holds the raw link; once used it is worthless, so drop it."""
    session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.dedupe_key == f"sign_in:{token_id}",
            EmailMessage.status == EmailStatus.SENT,
        )
        .values(text_body="(sign-in link: used)", html_body=None)
        .execution_options(synchronize_session=False)
    )


def purge_sign_in_links(session: Session, *, config: Config, now: datetime) -> int:
    """Blank the bodies of sign-in emails whose links expired, and drop day-old token rows."""
    expired_before = now - timedelta(minutes=config.sign_in_link_minutes)
    result = session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.kind == "sign_in",
            EmailMessage.created_at < expired_before,
            EmailMessage.status.in_([EmailStatus.SENT, EmailStatus.FAILED]),
            EmailMessage.html_body.is_not(None),
        )
        .values(text_body="(sign-in link: expired)", html_body=None)
        .execution_options(synchronize_session=False)
    )
    old = session.scalars(
        select(SignInToken).where(SignInToken.expires_at < now - timedelta(days=1))
    ).all()
    for row in old:
        session.delete(row)
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0) + len(old)


# Passwords (optional)

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def sign_in_with_password(session: Session, *, email: str, password: str, now: datetime) -> Account:
    """The account whose password this is; one message for every failure, and an argon2
    verification even for unknown addresses so the timing says nothing either. Wrong passwords
    are counted per address (flushed: the caller commits them even when refusing), and past a
    few of them the next try waits (PasswordDelayed)."""
    address = normalize_email(email)
    wait = password_delay.wait_before_next_try(session, address, now)
    if wait is not None:
        raise PasswordDelayed(wait)
    account: Account | None = _active_staff(session, address)
    if account is None:
        supporter = _supporter_by_email(session, address)
        account = supporter if supporter is not None and supporter.active else None
    stored = account.password_hash if account is not None else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
        ok = stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or stored is None:
        password_delay.record_failure(session, address, now)
        session.flush()
        raise SignInError(
            "That email address and password don't match. You can always sign in with an "
            "emailed link instead."
        )
    password_delay.clear_failures(session, address)
    if _hasher.check_needs_rehash(stored):
        account.password_hash = _hasher.hash(password)
    if isinstance(account, Supporter):
        account.last_sign_in_at = now
    session.flush()
    return account


def set_password(session: Session, supporter: Supporter, password: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise SignInError(problem)
    supporter.password_hash = _hasher.hash(password)
    session.flush()


def remove_password(session: Session, supporter: Supporter) -> None:
    supporter.password_hash = None
    session.flush()


# Sessions


def sign_out_everywhere(session: Session, account: Account, *, now: datetime) -> None:
    """Every session signed in before now stops working: each is revoked on the server, and the
    epoch in the signed-in id moves on as well."""
    account.login_epoch = (account.login_epoch or 0) + 1
    revoke_all_sessions(session, account, now)
    session.flush()
