"""Supporters as finance sees them: search, a supporter's record (viewing it is audited), refunds
through Stripe and resent receipts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from membership.addresses import CONTROL_RE
from membership.config import Config
from membership.models import (
    Donation,
    DonationRefund,
    DonationStatus,
    EmailMessage,
    StaffMember,
    Subscriber,
    Subscription,
    Supporter,
)
from membership.payments.gateway import PaymentProviderError, StripeGateway
from membership.services import notifications
from membership.services.errors import PaymentUnavailable, ServiceError
from membership.services.lifecycle.reader_links import GROUP_TITLES
from membership.services.lifecycle.sending import opted_out_groups
from membership.services.lifecycle.stats import SentLine, supporter_messages
from membership.services.newsletter import ConsentHistoryLine, consent_history
from membership.services.staff import audit

SEARCH_LIMIT = 50


class RefundError(ServiceError):
    """This refund cannot be asked for; the message is for the staff member."""


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_supporters(
    session: Session, actor: StaffMember, query: str
) -> list[tuple[Supporter, int, int]]:
    """Supporters whose email or name contains `query` (case-insensitive), with their number of
    gifts and total given; newest first, at most SEARCH_LIMIT. Audited: it lists people."""
    # Control characters match nothing we store (and PostgreSQL cannot compare a NUL).
    text = CONTROL_RE.sub("", query).strip().lower()
    audit.record(
        session, actor, "supporters.searched", target_type="supporter", details={"query": text}
    )
    totals = (
        select(
            Donation.supporter_id.label("sid"),
            func.count().label("n"),
            func.sum(Donation.amount_cents + Donation.fee_cents).label("total"),
        )
        .where(Donation.status != DonationStatus.FAILED)
        .group_by(Donation.supporter_id)
        .subquery()
    )
    statement = (
        select(Supporter, func.coalesce(totals.c.n, 0), func.coalesce(totals.c.total, 0))
        .outerjoin(totals, totals.c.sid == Supporter.id)
        .order_by(Supporter.created_at.desc(), Supporter.id.desc())
        .limit(SEARCH_LIMIT)
    )
    if text:
        pattern = _like_pattern(text)
        statement = statement.where(
            or_(
                Supporter.email.like(pattern, escape="\\"),
                func.lower(Supporter.name).like(pattern, escape="\\"),
            )
        )
    return [(s, int(n), int(total)) for s, n, total in session.execute(statement)]


@dataclass(frozen=True)
class SupporterRecord:
    supporter: Supporter
    donations: list[Donation]
    subscriptions: list[Subscription]
    emails: list[EmailMessage]
    newsletter: list[ConsentHistoryLine]
    newsletter_status: str | None
    lifecycle: list[SentLine]
    lifecycle_opt_outs: list[str]  # what they unsubscribed from, in words
    # Every refund of their gifts in the status Stripe last gave it (failed ones included),
    # with the receipt number it belongs to; newest first.
    refunds: list[tuple[str, DonationRefund]] = field(default_factory=list)

    def can_refund(self, donation: Donation) -> bool:
        return refundable_cents(donation) > 0


def supporter_record(session: Session, supporter: Supporter, actor: StaffMember) -> SupporterRecord:
    """Everything we hold about one supporter; looking is audited (it is personal data)."""
    donations = session.scalars(
        select(Donation)
        .where(Donation.supporter_id == supporter.id)
        .order_by(Donation.paid_at.desc(), Donation.id.desc())
    ).all()
    subscriptions = session.scalars(
        select(Subscription)
        .where(Subscription.supporter_id == supporter.id)
        .order_by(Subscription.started_at.desc())
    ).all()
    emails: list[EmailMessage] = []
    if supporter.email:
        emails = list(
            session.scalars(
                select(EmailMessage)
                .where(EmailMessage.to_address == supporter.email)
                .order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc())
                .limit(100)
            )
        )
    audit.record(
        session, actor, "supporter.viewed", target_type="supporter", target_id=supporter.id
    )
    subscriber = (
        session.scalar(select(Subscriber).where(Subscriber.email == supporter.email))
        if supporter.email
        else None
    ) or session.scalar(select(Subscriber).where(Subscriber.supporter_id == supporter.id))
    consents = consent_history(session, subscriber.id) if subscriber is not None else []
    refunds = session.execute(
        select(Donation.receipt_number, Donation.id, DonationRefund)
        .join(DonationRefund, DonationRefund.donation_id == Donation.id)
        .where(Donation.supporter_id == supporter.id)
        .order_by(DonationRefund.refunded_at.desc(), DonationRefund.id.desc())
    ).all()
    return SupporterRecord(
        supporter,
        list(donations),
        list(subscriptions),
        emails,
        consents,
        subscriber.status.value if subscriber is not None else None,
        supporter_messages(session, supporter.id),
        sorted(
            GROUP_TITLES[g] for g in opted_out_groups(session, supporter.id) if g in GROUP_TITLES
        ),
        [(receipt or str(donation_id), refund) for receipt, donation_id, refund in refunds],
    )


def refundable_cents(donation: Donation) -> int:
    """What is left to refund of a payment: nothing of a failed or disputed one."""
    if donation.status in (DonationStatus.FAILED, DonationStatus.DISPUTED):
        return 0
    return donation.total_cents - donation.refunded_cents


def request_refund(
    session: Session,
    gateway: StripeGateway,
    donation: Donation,
    *,
    amount_cents: int,
    reason: str,
    nonce: str,
    actor: StaffMember,
) -> None:
    """Ask Stripe to refund; our books change only when the `charge.refunded` webhook confirms.

    The idempotency key names the donation and the confirmation page (`nonce`, new each time
    the page is opened): a double submit sends the same request twice and Stripe makes one
    refund, even if the first refund's webhook arrived in between.
    """
    available = refundable_cents(donation)
    if available <= 0:
        raise RefundError("Nothing is left to refund on this payment.")
    if not 0 < amount_cents <= available:
        raise RefundError(
            f"Refund between 0.01 and {available / 100:.2f}: that is what is left of this payment."
        )
    if not donation.stripe_payment_intent_id:
        raise RefundError("This payment has no Stripe payment to refund; do it in Stripe.")
    try:
        gateway.create_refund(
            payment_intent=donation.stripe_payment_intent_id,
            amount_cents=amount_cents,
            key=f"refund-{donation.id}-{nonce}",
        )
    except PaymentProviderError as error:
        raise PaymentUnavailable(
            error.message, detail=error.detail, retryable=error.retryable
        ) from error
    audit.record(
        session,
        actor,
        "refund.requested",
        target_type="donation",
        target_id=donation.id,
        details={
            "amount_cents": amount_cents,
            "reason": reason,
            "receipt_number": donation.receipt_number,
        },
    )


def resend_receipt(
    session: Session, donation: Donation, *, actor: StaffMember, config: Config, now: datetime
) -> bool:
    """Queue the receipt again. The first receipt's dedupe key (receipt:<id>) is spent, so a
    resend has its own, one per donation per minute: a double click sends one email."""
    queued = notifications.queue_receipt(
        session,
        donation,
        config,
        dedupe_key=f"receipt:{donation.id}:resend:{now:%Y%m%d%H%M}",
    )
    if queued:
        audit.record(
            session,
            actor,
            "receipt.resent",
            target_type="donation",
            target_id=donation.id,
            details={"receipt_number": donation.receipt_number},
        )
    return queued
