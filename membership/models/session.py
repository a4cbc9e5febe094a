"""Signed-in sessions kept on the server, and password failures per address: what sign-out,
"sign out everywhere", staff time limits and the password delay rest on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.account import AccountKind
from membership.models.base import Base, str_enum, utcnow


class AccountSession(Base):
    """One signed-in browser. The browser's session cookie holds a random id; we keep its hash,
    so a copy of this table signs nobody in. A session works while it is neither revoked (signed
    out, or its account changed) nor idle too long nor past its absolute end."""

    __tablename__ = "account_session"
    __table_args__ = (
        CheckConstraint("(supporter_id IS NULL) <> (staff_id IS NULL)", name="one_kind_of_account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind))
    supporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporter.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class PasswordFailure(Base):
    """Wrong passwords given for one address (known or not, so the delay reveals nothing),
    counted until a right one; each failure past the first few doubles the wait."""

    __tablename__ = "password_failure"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow)
