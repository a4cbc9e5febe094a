"""Sign-in links: random tokens kept only as SHA-256 hashes, single use, short-lived."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.base import Base, str_enum, utcnow


class AccountKind(enum.StrEnum):
    SUPPORTER = "supporter"
    STAFF = "staff"


class SignInToken(Base):
    """One emailed sign-in link. The link carries the token; we keep its hash, so a copy of this
    table signs nobody in. `browser_hash` is the hash of a nonce kept in the asking browser's
    session: the link opened elsewhere asks the person to confirm."""

    __tablename__ = "sign_in_token"
    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        Index("ix_sign_in_token_email_created_at", "email", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind))
    # Normalized address the link was sent to; the supporter row is created only when the link
    # is used (the address is then proven), so an unknown address has no supporter yet.
    email: Mapped[str] = mapped_column(String(320))
    supporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporter.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="CASCADE"), index=True
    )
    browser_hash: Mapped[str] = mapped_column(String(64))
    next_path: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
