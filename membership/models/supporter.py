"""Supporters: people who gave, keyed by their email address (compared case-insensitively)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.base import Base, LoginMixin, utcnow


class Supporter(LoginMixin, Base):
    __tablename__ = "supporter"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always stored lower-cased and trimmed (services.supporters.normalize_email), so the unique
    # constraint is case-insensitive on every database. Null once the person asked to be erased.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # The first Stripe customer seen for them; every one is in `supporter_customer`.
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When anything in the row last changed: the API's `updated_since` filter reads it.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    erased_at: Mapped[datetime | None]
    # Optional: most supporters sign in by emailed link; argon2 hash for those who set one.
    password_hash: Mapped[str | None] = mapped_column(String(300))
    # Part of the signed-in id: raising it signs the supporter out on every device.
    login_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    receipt_emails: Mapped[bool] = mapped_column(default=True, server_default=true())
    renewal_reminders: Mapped[bool] = mapped_column(default=True, server_default=true())
    last_sign_in_at: Mapped[datetime | None]

    def get_id(self) -> str:
        return f"supporter:{self.id}:{self.login_epoch or 0}"

    def __repr__(self) -> str:
        return f"<Supporter {self.id}>"


class SupporterCustomer(Base):
    """Every Stripe customer seen for a supporter. Checkout makes a new customer for each session
    unless one is passed, so one person can have several: erasure blanks them all, and a
    customer's events find their supporter through this table."""

    __tablename__ = "supporter_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporter.id"), index=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
