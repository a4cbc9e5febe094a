"""API tokens: created with scopes and an optional expiry, shown once, stored hashed, revoked by
name; every use updates the token's last-used time and a per-route, per-day counter."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.models import ApiToken, ApiTokenUse
from membership.services.sql import dialect_insert

SCOPES = {
    "supporters:read": "supporters and their subscriptions",
    "donations:read": "donations (with refunds and disputes) and subscriptions",
    "newsletter:read": "newsletter subscribers and their consent history",
    "reports:read": "report figures, banner variants",
}
TOKEN_PREFIX = "mbr_"  # noqa: S105 (a prefix, not a secret)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$")
EXPIRY_PATTERN = re.compile(r"^(\d{1,4})([dh])$")


class ApiTokenError(ValueError):
    """A token could not be created or revoked; the message says why."""


class ApiAuthError(Exception):
    """The request's token is missing, unknown, revoked or expired (all answered alike)."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_expiry(text: str, now: datetime) -> datetime | None:
    """'90d', '12h' or '' (never) -> when the token stops working."""
    text = text.strip().lower()
    if not text or text == "never":
        return None
    match = EXPIRY_PATTERN.match(text)
    if not match or int(match.group(1)) < 1:
        raise ApiTokenError("Give the expiry as a number of days or hours, like 90d or 12h.")
    amount = int(match.group(1))
    return now + (timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount))


def create_token(
    session: Session,
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime | None,
    created_by: str,
    now: datetime,
) -> NewToken:
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise ApiTokenError(
            "Give the token a name of 1-80 letters, digits, spaces, dots, dashes or underscores."
        )
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ApiTokenError(
            f"Choose at least one scope from {', '.join(SCOPES)}"
            + (f" (not {', '.join(unknown)})." if unknown else ".")
        )
    if expires_at is not None and expires_at <= now:
        raise ApiTokenError("The expiry must be in the future.")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise ApiTokenError(f"There is already a token named {name!r}; revoke it or pick another.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:10],
        scopes=sorted(set(scopes)),
        created_at=now,
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return NewToken(token=token, secret=secret)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))


def revoke_token(session: Session, name: str, *, now: datetime) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.name == name.strip()))
    if token is None:
        raise ApiTokenError(f"There is no token named {name!r}.")
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def token_state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def authenticate(session: Session, secret: str, *, now: datetime) -> ApiToken:
    """The active token with this secret; ApiAuthError for anything else."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise ApiAuthError
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token_state(token, now) != "active":
        raise ApiAuthError
    return token


def record_use(session: Session, token: ApiToken, route: str, *, now: datetime) -> None:
    """Count one request: an upsert, so concurrent requests each add one."""
    token.last_used_at = now
    table = ApiTokenUse.__table__
    stmt = dialect_insert(session, table).values(
        token_id=token.id, route=route[:120], day=now.date(), count=1, last_used_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["token_id", "route", "day"],
        set_={"count": table.c.count + 1, "last_used_at": now},
    )
    session.execute(stmt)
    session.flush()


def usage(session: Session, token: ApiToken) -> list[ApiTokenUse]:
    return list(
        session.scalars(
            select(ApiTokenUse)
            .where(ApiTokenUse.token_id == token.id)
            .order_by(ApiTokenUse.day.desc(), ApiTokenUse.route)
        )
    )
