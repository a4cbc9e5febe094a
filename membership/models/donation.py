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
        # The funnel report: checkouts started per article and variant, by date.
        Index(
            "ix_donation_intent_report",
            "created_at",
            "source_article_id",
            "variant_id",
            "status",
        ),
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
    # The newsletter issue whose appeal link (source=newsletter-<id>) the gift started from.
    source_issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("newsletter_issue.id", ondelete="SET NULL"), index=True
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
    # The subscription's own customer: its card is changed on this customer's billing portal.
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
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
    # When anything in the row last changed: the API's `updated_since` filter reads it.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    # `created` of the newest Stripe event applied: an older event never overwrites newer state.
    stripe_updated_at: Mapped[datetime | None]
    # A change the supporter asked for that starts with the next payment (the next phase of a
    # Stripe subscription schedule): shown on their page until a snapshot shows it applied.
    next_amount_cents: Mapped[int | None]
    next_fee_cents: Mapped[int | None]
    next_interval: Mapped[str | None] = mapped_column(String(20))
    next_change_at: Mapped[datetime | None]

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
        # The reports read these columns by payment date; covering them spares a table lookup
        # per row (SQLite) and allows index-only scans (PostgreSQL).
        Index(
            "ix_donation_report",
            "paid_at",
            "kind",
            "status",
            "amount_cents",
            "fee_cents",
            "source_article_id",
            "variant_id",
        ),
        Index("ix_donation_disputed_at", "disputed_at"),
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
    # When the (first) dispute was opened: reports date disputes by it.
    disputed_at: Mapped[datetime | None]
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
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
    # When anything in the row last changed (a refund, a dispute): the API's `updated_since`.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    @property
    def total_cents(self) -> int:
        return self.amount_cents + self.fee_cents


class RefundStatus(enum.StrEnum):
    """Stripe's refund statuses: pending and succeeded refunds count; failed and canceled ones
    gave nothing back."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# The refunds whose money has left (or is leaving) us.
COUNTED_REFUNDS = (RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value)


class DonationRefund(Base):
    """Money given back: one row per Stripe refund, dated when the refund was made, in the
    status Stripe last gave it. Reports count the pending and succeeded ones by that date, so a
    second partial refund in a later month never moves the first one, and a refund that fails
    stops counting. (Rows without a Stripe id come from before refunds were kept one by one.)"""

    __tablename__ = "donation_refund"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_donation_refund_refunded_at", "refunded_at", "amount_cents"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donation.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    refunded_at: Mapped[datetime]
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[RefundStatus] = mapped_column(
        str_enum(RefundStatus), default=RefundStatus.SUCCEEDED, server_default="succeeded"
    )
    failure_reason: Mapped[str | None] = mapped_column(String(60))
    # When the donor was told the money is on its way back (once, when it succeeded).
    confirmed_at: Mapped[datetime | None]

    @property
    def counted(self) -> bool:
        return self.status.value in COUNTED_REFUNDS


class DisputeMovement(Base):
    """Money a dispute took from us or gave back, one row per Stripe balance transaction of the
    dispute (`funds_withdrawn`, `funds_reinstated`), dated when Stripe moved it. An inquiry has
    none: it moves no money."""

    __tablename__ = "dispute_movement"
    __table_args__ = (Index("ix_dispute_movement_moved_at", "moved_at", "amount_cents"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donation.id"), index=True)
    stripe_dispute_id: Mapped[str] = mapped_column(String(255))
    stripe_balance_transaction_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Withdrawn is positive, reinstated negative: the sum is what the dispute costs now.
    amount_cents: Mapped[int] = mapped_column(Integer)
    # Stripe's dispute fee on this movement (a fee returned is negative).
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    moved_at: Mapped[datetime]


class MrrSpan(Base):
    """A stretch of time during which a subscription brought in monthly recurring revenue.

    `services.mrr` opens a span when a subscription starts contributing (or its amount changes)
    and closes it when it stops (cancelled, ended, paused, unpaid). MRR at any moment is the sum
    of the spans open then, which lets the reports compute history without replaying events.
    """

    __tablename__ = "mrr_span"
    __table_args__ = (
        CheckConstraint("mrr_cents > 0", name="mrr_positive"),
        CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", name="ends_after_start"),
        Index("ix_mrr_span_starts_at", "starts_at", "ends_at", "subscription_id", "mrr_cents"),
        Index("ix_mrr_span_ends_at", "ends_at", "subscription_id", "mrr_cents"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), index=True)
    # What the subscription charges per month, fee included: an annual amount / 12, half-up.
    mrr_cents: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]


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
