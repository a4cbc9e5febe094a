"""Money: donation attempts, donations, recurring subscriptions and the Stripe event ledger."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from membership.models.article import Frequency
from membership.models.base import Base, str_enum, utcnow


class IntentStatus(enum.StrEnum):
    PENDING = "pending"  # Checkout Session created, reader has not finished
    COMPLETED = "completed"  # a verified webhook turned it into a donation or subscription
    EXPIRED = "expired"  # the reader abandoned the Checkout page
    FAILED = "failed"  # a delayed payment method failed


class DonationKind(enum.StrEnum):
    ONE_OFF = "one_off"
    RECURRING = "recurring"


class DonationStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    DISPUTED = "disputed"
    FAILED = "failed"


class SubscriptionStatus(enum.StrEnum):
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    PAUSED = "paused"


class BillingInterval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


class DonationIntent(Base):
    """One attempt to give: what the reader chose on our form, before Stripe confirms anything."""

    __tablename__ = "donation_intent"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
        Index("ix_donation_intent_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency))
    email: Mapped[str | None] = mapped_column(String(320))
    source_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("article.id", ondelete="SET NULL")
    )
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("banner_variant.id", ondelete="SET NULL")
    )
    status: Mapped[IntentStatus] = mapped_column(
        str_enum(IntentStatus), default=IntentStatus.PENDING
    )
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    @property
    def total_cents(self) -> int:
        return self.amount_cents + self.fee_cents


class Subscription(Base):
    """A recurring gift as Stripe knows it; its payments are Donation rows (one per invoice)."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("fee_cents >= 0 AND fee_cents < amount_cents", name="fee_in_range"),
        Index("ix_subscription_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    supporter_id: Mapped[int | None] = mapped_column(ForeignKey("supporter.id"), index=True)
    intent_id: Mapped[int | None] = mapped_column(
        ForeignKey("donation_intent.id", ondelete="SET NULL")
    )
    # What each payment charges in total, and the part of it that covers the processing fee.
    amount_cents: Mapped[int] = mapped_column(Integer)
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[BillingInterval] = mapped_column(str_enum(BillingInterval))
    status: Mapped[SubscriptionStatus] = mapped_column(str_enum(SubscriptionStatus))
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    canceled_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    source_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("article.id", ondelete="SET NULL")
    )
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("banner_variant.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # `created` of the newest Stripe event applied: an older event never overwrites newer state.
    stripe_updated_at: Mapped[datetime | None]

    @property
    def gift_cents(self) -> int:
        return self.amount_cents - self.fee_cents


class Donation(Base):
    """Money received: one row per successful one-off payment or paid invoice."""

    __tablename__ = "donation"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents + fee_cents",
            name="refund_in_range",
        ),
        Index("ix_donation_paid_at", "paid_at"),
        Index("ix_donation_supporter_paid_at", "supporter_id", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The gift itself, and the processing fee the donor chose to cover on top of it.
    amount_cents: Mapped[int] = mapped_column(Integer)
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[DonationKind] = mapped_column(str_enum(DonationKind))
    status: Mapped[DonationStatus] = mapped_column(
        str_enum(DonationStatus), default=DonationStatus.SUCCEEDED
    )
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    dispute_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    dispute_status: Mapped[str | None] = mapped_column(String(40))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    supporter_id: Mapped[int | None] = mapped_column(ForeignKey("supporter.id"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"), index=True)
    intent_id: Mapped[int | None] = mapped_column(
        ForeignKey("donation_intent.id", ondelete="SET NULL")
    )
    source_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("article.id", ondelete="SET NULL"), index=True
    )
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("banner_variant.id", ondelete="SET NULL"), index=True
    )
    receipt_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    paid_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def total_cents(self) -> int:
        return self.amount_cents + self.fee_cents


class StripeEvent(Base):
    """The ledger of every verified Stripe event: stored once, applied once."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    created: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
