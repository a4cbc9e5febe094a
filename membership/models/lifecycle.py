"""Lifecycle email: the copy staff edit per kind, each message sent (once per person, kind and
period), per-kind opt-outs, and failed renewals the dunning sequence follows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.base import Base, utcnow


class LifecycleSetting(Base):
    """Staff's copy and switch for one kind; a kind without a row uses the copy shipped in
    `services.lifecycle.kinds` and is on."""

    __tablename__ = "lifecycle_setting"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_markdown: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )


class LifecycleMessage(Base):
    """One lifecycle email to one supporter: the dedupe key is (supporter, kind, period), so a
    job that runs again, or twice at once, never sends it twice."""

    __tablename__ = "lifecycle_message"
    __table_args__ = (
        UniqueConstraint("supporter_id", "kind", "period"),
        # The staff page per kind counts by kind and reads the newest first.
        Index("ix_lifecycle_message_kind_created_at", "kind", "created_at"),
        Index("ix_lifecycle_message_supporter_id", "supporter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporter.id"))
    kind: Mapped[str] = mapped_column(String(40))
    # What the message is about: "once", a year, an invoice, a gift, a card's expiry month.
    period: Mapped[str] = mapped_column(String(80))
    email_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The first time a link in it was followed (through our signed redirect).
    link_opened_at: Mapped[datetime | None]


class LifecycleOptOut(Base):
    """A supporter who unsubscribed from one group of lifecycle emails (its per-kind link)."""

    __tablename__ = "lifecycle_opt_out"

    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporter.id"), primary_key=True)
    kind_group: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FailedRenewal(Base):
    """A renewal invoice whose payment failed: the dunning sequence runs while it is unpaid."""

    __tablename__ = "failed_renewal"
    __table_args__ = (Index("ix_failed_renewal_open", "paid_at", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    # Stripe's hosted invoice page: pay it, or update the card.
    fix_url: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
