"""Donation rules: intents and checkout, and turning verified Stripe objects into our rows.

Every `record_*`/`apply_*` function is idempotent by the Stripe object it touches (unique
constraints on payment intent, invoice, charge, subscription ids) and tolerant of event order: a
subscription's state comes from the object's own fields, and an older snapshot never overwrites a
newer one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from membership.config import Config
from membership.frequency import INTERVAL_OF
from membership.models import (
    Article,
    BannerVariant,
    BillingInterval,
    Donation,
    DonationIntent,
    DonationKind,
    DonationRefund,
    DonationStatus,
    Frequency,
    IntentStatus,
    Subscription,
    SubscriptionStatus,
    Supporter,
    utcnow,
)
from membership.payments.gateway import CheckoutRequest, StripeGateway
from membership.services import notifications
from membership.services.mrr import record_mrr
from membership.services.sql import insert_or_ignore
from membership.services.supporters import find_or_create_supporter, normalize_email

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class DonationError(ValueError):
    """The donation cannot go ahead as asked; the message is for the reader."""


class EventNotReady(RuntimeError):
    """An event refers to something we have not recorded yet; Stripe should deliver it again."""


# Choosing a gift


def processing_fee(amount_cents: int, percent: float, fixed_cents: int) -> int:
    """What to add so that, after the processor takes `percent` + `fixed` of the total, the whole
    gift arrives: total = ceil((gift + fixed) / (1 - percent/100)); fee = total - gift."""
    if percent <= 0 and fixed_cents <= 0:
        return 0
    rate = Decimal(str(percent)) / Decimal(100)
    total = (Decimal(amount_cents + fixed_cents) / (Decimal(1) - rate)).to_integral_value(
        rounding=ROUND_CEILING
    )
    return int(total) - amount_cents


@dataclass(frozen=True)
class DonationChoice:
    amount_cents: int
    frequency: Frequency
    cover_fee: bool
    email: str | None = None
    source_slug: str | None = None
    variant_id: int | None = None


def create_intent(session: Session, choice: DonationChoice, config: Config) -> DonationIntent:
    if not config.min_amount_cents <= choice.amount_cents <= config.max_amount_cents:
        raise DonationError("That amount is outside what we can accept.")
    fee = (
        processing_fee(choice.amount_cents, config.fee_percent, config.fee_fixed_cents)
        if choice.cover_fee
        else 0
    )
    article_id = None
    if choice.source_slug:
        article_id = session.scalar(select(Article.id).where(Article.slug == choice.source_slug))
    variant_id = choice.variant_id
    if variant_id is not None and session.get(BannerVariant, variant_id) is None:
        variant_id = None
    intent = DonationIntent(
        amount_cents=choice.amount_cents,
        fee_cents=fee,
        currency=config.currency,
        frequency=choice.frequency,
        email=normalize_email(choice.email) if choice.email else None,
        source_article_id=article_id,
        variant_id=variant_id,
    )
    session.add(intent)
    session.flush()
    return intent


def _product_name(frequency: Frequency, publication: str) -> str:
    if frequency is Frequency.MONTHLY:
        return f"Monthly support for {publication}"
    if frequency is Frequency.ANNUAL:
        return f"Annual support for {publication}"
    return f"A gift to {publication}"


def start_checkout(
    session: Session,
    gateway: StripeGateway,
    intent: DonationIntent,
    config: Config,
    *,
    source_slug: str | None,
) -> str:
    """Create the Stripe Checkout Session for an intent; the URL to send the reader to."""
    metadata = {
        "intent_id": str(intent.id),
        "frequency": intent.frequency.value,
        "gift_cents": str(intent.amount_cents),
        "fee_cents": str(intent.fee_cents),
        "source": source_slug or "",
        "variant_id": str(intent.variant_id or ""),
    }
    base = config.base_url.rstrip("/")
    checkout = gateway.create_checkout_session(
        CheckoutRequest(
            # Stable per intent: a retried request cannot create a second session.
            idempotency_key=f"intent-{intent.id}-{int(intent.created_at.timestamp() * 1000)}",
            mode="payment" if intent.frequency is Frequency.ONCE else "subscription",
            amount_cents=intent.total_cents,
            currency=intent.currency,
            interval=INTERVAL_OF[intent.frequency].value
            if intent.frequency in INTERVAL_OF
            else None,
            product_name=_product_name(intent.frequency, config.publication_name),
            success_url=f"{base}/support/thanks?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/support/cancelled",
            metadata=metadata,
            customer_email=intent.email,
            client_reference_id=str(intent.id),
        )
    )
    intent.checkout_session_id = checkout["id"]
    session.flush()
    url = checkout.get("url")
    if not isinstance(url, str):
        raise DonationError("The payment page could not be opened.")
    return url


# Reading Stripe objects


def _ts(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _id(value: Any) -> str | None:
    """An id field, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _intent_for(session: Session, metadata: Obj | None, *fallbacks: Any) -> DonationIntent | None:
    candidates = [(metadata or {}).get("intent_id"), *fallbacks]
    for candidate in candidates:
        intent_id = _int(candidate)
        if intent_id is not None:
            intent = session.get(DonationIntent, intent_id)
            if intent is not None:
                return intent
    return None


def _split(total: int, metadata: Obj | None, intent: DonationIntent | None) -> tuple[int, int]:
    """Gift and covered fee of a payment of `total`, from what the donor chose."""
    if intent is not None and intent.total_cents == total:
        return intent.amount_cents, intent.fee_cents
    gift, fee = _int((metadata or {}).get("gift_cents")), _int((metadata or {}).get("fee_cents"))
    if gift is not None and fee is not None and gift > 0 and fee >= 0 and gift + fee == total:
        return gift, fee
    return total, 0


def _complete_intent(intent: DonationIntent | None, now: datetime) -> None:
    if intent is not None and intent.status is not IntentStatus.COMPLETED:
        intent.status = IntentStatus.COMPLETED
        intent.completed_at = now


def _new_donation(session: Session, values: Obj, config: Config) -> Donation | None:
    """Insert a donation unless one exists for the same Stripe object; set its receipt number."""
    donation = insert_or_ignore(session, Donation, values)
    if donation is None:
        return None
    donation.receipt_number = f"{config.receipt_prefix}-{donation.paid_at.year}-{donation.id:06d}"
    session.flush()
    notifications.queue_receipt(session, donation, config)
    return donation


# Checkout Sessions


def record_checkout_completed(
    session: Session, checkout: Obj, *, config: Config, now: datetime
) -> Donation | None:
    intent = _intent_for(session, checkout.get("metadata"), checkout.get("client_reference_id"))
    details = checkout.get("customer_details") or {}
    supporter = find_or_create_supporter(
        session,
        email=details.get("email")
        or checkout.get("customer_email")
        or (intent.email if intent else None),
        stripe_customer_id=_id(checkout.get("customer")),
        name=details.get("name") or "",
    )
    mode = checkout.get("mode")
    if mode == "payment":
        if checkout.get("payment_status") != "paid":
            return None  # a delayed method: async_payment_succeeded will settle it
        total = int(checkout["amount_total"])
        gift, fee = _split(total, checkout.get("metadata"), intent)
        donation = _new_donation(
            session,
            {
                "amount_cents": gift,
                "fee_cents": fee,
                "currency": str(checkout.get("currency") or config.currency).lower(),
                "kind": DonationKind.ONE_OFF,
                "status": DonationStatus.SUCCEEDED,
                "refunded_cents": 0,
                "stripe_payment_intent_id": _id(checkout.get("payment_intent")),
                "stripe_checkout_session_id": checkout["id"],
                "supporter_id": supporter.id if supporter else None,
                "intent_id": intent.id if intent else None,
                "source_article_id": intent.source_article_id if intent else None,
                "variant_id": intent.variant_id if intent else None,
                "paid_at": now,
                "created_at": now,
            },
            config,
        )
        _complete_intent(intent, now)
        session.flush()
        return donation
    if mode == "subscription":
        subscription_id = _id(checkout.get("subscription"))
        if subscription_id:
            subscription = _subscription_row(session, subscription_id)
            if subscription is None:
                _create_subscription_from_intent(
                    session,
                    subscription_id,
                    intent=intent,
                    metadata=checkout.get("metadata"),
                    total=_int(checkout.get("amount_total")),
                    supporter=supporter,
                    currency=str(checkout.get("currency") or config.currency),
                    paid=checkout.get("payment_status") == "paid",
                    now=now,
                )
            elif supporter is not None and subscription.supporter_id is None:
                subscription.supporter_id = supporter.id
        _complete_intent(intent, now)
        session.flush()
    return None


def mark_checkout_failed(session: Session, checkout: Obj, status: IntentStatus) -> None:
    """An abandoned (expired) or failed checkout: kept so staff can see abandoned attempts."""
    intent = _intent_for(session, checkout.get("metadata"), checkout.get("client_reference_id"))
    if intent is not None and intent.status is IntentStatus.PENDING:
        intent.status = status
        session.flush()


# Subscriptions


def _subscription_row(session: Session, stripe_id: str) -> Subscription | None:
    return session.scalar(
        select(Subscription).where(Subscription.stripe_subscription_id == stripe_id)
    )


def _create_subscription_from_intent(
    session: Session,
    stripe_id: str,
    *,
    intent: DonationIntent | None,
    metadata: Obj | None,
    total: int | None,
    supporter: Supporter | None,
    currency: str,
    paid: bool,
    now: datetime,
) -> Subscription | None:
    if intent is None or intent.frequency not in INTERVAL_OF:
        return None
    amount = total or intent.total_cents
    _gift, fee = _split(amount, metadata, intent)
    insert_or_ignore(
        session,
        Subscription,
        {
            "stripe_subscription_id": stripe_id,
            "supporter_id": supporter.id if supporter else None,
            "intent_id": intent.id,
            "amount_cents": amount,
            "fee_cents": fee,
            "currency": currency.lower(),
            "interval": INTERVAL_OF[intent.frequency],
            "status": SubscriptionStatus.ACTIVE if paid else SubscriptionStatus.INCOMPLETE,
            "cancel_at_period_end": False,
            "source_article_id": intent.source_article_id,
            "variant_id": intent.variant_id,
            "started_at": now,
        },
        ["stripe_subscription_id"],
    )
    row = _subscription_row(session, stripe_id)
    if row is not None:
        record_mrr(session, row, now)
    return row


def _subscription_price(obj: Obj) -> tuple[int | None, str | None, datetime | None]:
    items = (obj.get("items") or {}).get("data") or []
    if not items:
        return None, None, None
    item = items[0]
    price = item.get("price") or item.get("plan") or {}
    amount = _int(price.get("unit_amount", price.get("amount")))
    interval = (price.get("recurring") or {}).get("interval") or price.get("interval")
    period_end = _ts(item.get("current_period_end") or obj.get("current_period_end"))
    return amount, interval, period_end


def refresh_subscription(
    session: Session, stripe_id: str, *, gateway: StripeGateway, config: Config, now: datetime
) -> Subscription | None:
    """Bring our row in line with the subscription as Stripe has it now.

    Subscription events are handled this way rather than from the event's own snapshot: events
    arrive in any order and several can share one second, but the object fetched now is the
    newest state there is, so every order of delivery ends in the same state.
    """
    return apply_subscription(
        session, gateway.retrieve_subscription(stripe_id), event_created=now, config=config, now=now
    )


def apply_subscription(
    session: Session, obj: Obj, *, event_created: datetime, config: Config, now: datetime
) -> Subscription | None:
    """Bring our row in line with a Stripe subscription snapshot taken at `event_created`."""
    stripe_id = obj["id"]
    row = session.scalar(
        select(Subscription)
        .where(Subscription.stripe_subscription_id == stripe_id)
        .with_for_update()
    )
    amount, interval, period_end = _subscription_price(obj)
    if row is None:
        if amount is None or interval not in ("month", "year"):
            log.warning("subscription %s has no usable price; ignored", stripe_id)
            return None
        intent = _intent_for(session, obj.get("metadata"))
        supporter = find_or_create_supporter(
            session,
            email=intent.email if intent else None,
            stripe_customer_id=_id(obj.get("customer")),
        )
        _gift, fee = _split(amount, obj.get("metadata"), intent)
        insert_or_ignore(
            session,
            Subscription,
            {
                "stripe_subscription_id": stripe_id,
                "supporter_id": supporter.id if supporter else None,
                "intent_id": intent.id if intent else None,
                "amount_cents": amount,
                "fee_cents": fee,
                "currency": str(obj.get("currency") or config.currency).lower(),
                "interval": BillingInterval(interval),
                "status": SubscriptionStatus.INCOMPLETE,
                "cancel_at_period_end": False,
                "source_article_id": intent.source_article_id if intent else None,
                "variant_id": intent.variant_id if intent else None,
                "started_at": _ts(obj.get("start_date") or obj.get("created")) or now,
            },
            ["stripe_subscription_id"],
        )
        row = _subscription_row(session, stripe_id)
        if row is None:  # pragma: no cover - inserted or found above
            return None
    if row.stripe_updated_at is not None and event_created < row.stripe_updated_at:
        return row  # an older snapshot: newer state is already applied
    if row.status is SubscriptionStatus.CANCELED and obj.get("status") != "canceled":
        return row  # cancellation is final; a stale "active" never revives it
    try:
        row.status = SubscriptionStatus(obj.get("status", row.status.value))
    except ValueError:
        log.warning("unknown subscription status %r on %s", obj.get("status"), stripe_id)
    if amount is not None and amount > 0:
        _gift, fee = _split(amount, obj.get("metadata"), None)
        row.fee_cents = fee if fee < amount else 0
        row.amount_cents = amount
    if interval in ("month", "year"):
        row.interval = BillingInterval(interval)
    if period_end is not None:
        row.current_period_end = period_end
    row.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    row.canceled_at = _ts(obj.get("canceled_at"))
    row.ended_at = _ts(obj.get("ended_at"))
    pause = obj.get("pause_collection") or None
    row.paused_until = _ts(pause.get("resumes_at")) if isinstance(pause, dict) else None
    row.started_at = _ts(obj.get("start_date")) or row.started_at
    if row.supporter_id is None:
        supporter = find_or_create_supporter(
            session, email=None, stripe_customer_id=_id(obj.get("customer"))
        )
        row.supporter_id = supporter.id if supporter else None
    row.stripe_updated_at = event_created
    session.flush()
    record_mrr(session, row, event_created)
    return row


# Invoices: one donation per paid invoice, the first one included


def _invoice_subscription(invoice: Obj) -> tuple[str | None, Obj]:
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    stripe_id = _id(details.get("subscription")) or _id(invoice.get("subscription"))
    metadata = details.get("metadata") or invoice.get("subscription_details", {}).get("metadata")
    return stripe_id, metadata or {}


def _invoice_payment_intent(invoice: Obj) -> str | None:
    for payment in (invoice.get("payments") or {}).get("data") or []:
        inner = payment.get("payment") or {}
        if inner.get("type") == "payment_intent" and _id(inner.get("payment_intent")):
            return _id(inner.get("payment_intent"))
    return _id(invoice.get("payment_intent"))


def record_invoice_paid(
    session: Session,
    invoice: Obj,
    *,
    gateway: StripeGateway,
    config: Config,
    event_created: datetime,
    now: datetime,
) -> Donation | None:
    stripe_sub_id, metadata = _invoice_subscription(invoice)
    total = _int(invoice.get("amount_paid")) or 0
    if stripe_sub_id is None or total <= 0:
        return None  # not a recurring gift of ours, or nothing was charged (e.g. paused)
    subscription = _subscription_row(session, stripe_sub_id)
    intent = _intent_for(session, metadata)
    supporter = find_or_create_supporter(
        session,
        email=invoice.get("customer_email") or (intent.email if intent else None),
        stripe_customer_id=_id(invoice.get("customer")),
        name=invoice.get("customer_name") or "",
    )
    if subscription is None:
        subscription = _create_subscription_from_intent(
            session,
            stripe_sub_id,
            intent=intent,
            metadata=metadata,
            total=total,
            supporter=supporter,
            currency=str(invoice.get("currency") or config.currency),
            paid=True,
            now=event_created,
        )
    if subscription is None:
        # Not started from our form: ask Stripe what it is.
        subscription = apply_subscription(
            session,
            gateway.retrieve_subscription(stripe_sub_id),
            event_created=event_created,
            config=config,
            now=now,
        )
    if subscription is None:
        raise EventNotReady(f"subscription {stripe_sub_id} of invoice {invoice.get('id')} unknown")
    if supporter is not None and subscription.supporter_id is None:
        subscription.supporter_id = supporter.id
    payment_intent = _invoice_payment_intent(invoice)
    if payment_intent is None:
        payment_intent = _invoice_payment_intent(gateway.retrieve_invoice(invoice["id"]))
    if subscription.amount_cents == total:
        gift, fee = subscription.gift_cents, subscription.fee_cents
    else:
        gift, fee = _split(total, metadata, None)
    paid_at = _ts((invoice.get("status_transitions") or {}).get("paid_at")) or event_created
    donation = _new_donation(
        session,
        {
            "amount_cents": gift,
            "fee_cents": fee,
            "currency": str(invoice.get("currency") or subscription.currency).lower(),
            "kind": DonationKind.RECURRING,
            "status": DonationStatus.SUCCEEDED,
            "refunded_cents": 0,
            "stripe_invoice_id": invoice["id"],
            "stripe_payment_intent_id": payment_intent,
            "supporter_id": subscription.supporter_id,
            "subscription_id": subscription.id,
            "intent_id": subscription.intent_id,
            "source_article_id": subscription.source_article_id,
            "variant_id": subscription.variant_id,
            "paid_at": paid_at,
            "created_at": now,
        },
        config,
    )
    if invoice.get("billing_reason") == "subscription_create":
        _complete_intent(intent, now)
    session.flush()
    return donation


def record_invoice_payment_failed(
    session: Session, invoice: Obj, *, gateway: StripeGateway, config: Config, now: datetime
) -> Subscription | None:
    """A renewal failed: the subscription is past due (as Stripe now says) and the supporter
    gets a link to fix their card."""
    stripe_sub_id, _metadata = _invoice_subscription(invoice)
    if stripe_sub_id is None:
        return None
    subscription = refresh_subscription(
        session, stripe_sub_id, gateway=gateway, config=config, now=now
    )
    if subscription is None:
        return None
    supporter = (
        session.get(Supporter, subscription.supporter_id) if subscription.supporter_id else None
    )
    email = (supporter.email if supporter else None) or invoice.get("customer_email")
    if email:
        notifications.queue_payment_failed(
            session,
            to=email,
            subscription=subscription,
            fix_url=invoice.get("hosted_invoice_url") or f"{config.base_url.rstrip('/')}/account",
            attempt=_int(invoice.get("attempt_count")) or 1,
            next_attempt=_ts(invoice.get("next_payment_attempt")),
            invoice_id=invoice["id"],
            config=config,
        )
    session.flush()
    return subscription


# Refunds and disputes


def _donation_for_charge(
    session: Session, charge_id: str | None, payment_intent: str | None
) -> Donation | None:
    if payment_intent:
        donation = session.scalar(
            select(Donation).where(Donation.stripe_payment_intent_id == payment_intent)
        )
        if donation is not None:
            return donation
    if charge_id:
        return session.scalar(select(Donation).where(Donation.stripe_charge_id == charge_id))
    return None


def _settled_status(donation: Donation) -> DonationStatus:
    if donation.refunded_cents >= donation.total_cents:
        return DonationStatus.REFUNDED
    if donation.refunded_cents > 0:
        return DonationStatus.PARTIALLY_REFUNDED
    return DonationStatus.SUCCEEDED


def apply_refund(session: Session, charge: Obj, *, refunded_at: datetime) -> Donation:
    """Record a charge's refunded total; the increase is dated `refunded_at` (when Stripe said
    so) in `DonationRefund`, which the reports read."""
    donation = _donation_for_charge(
        session, _id(charge.get("id")), _id(charge.get("payment_intent"))
    )
    if donation is None:
        raise EventNotReady(f"no donation for charge {charge.get('id')} yet")
    # Two refund events for one charge at once must not both count the same increase.
    session.refresh(donation, with_for_update=True)
    if donation.stripe_charge_id is None:
        donation.stripe_charge_id = _id(charge.get("id"))
    refunded = min(_int(charge.get("amount_refunded")) or 0, donation.total_cents)
    # Refunds only ever grow: an older event with a smaller total changes nothing.
    if refunded > donation.refunded_cents:
        session.add(
            DonationRefund(
                donation_id=donation.id,
                amount_cents=refunded - donation.refunded_cents,
                refunded_at=refunded_at,
            )
        )
        donation.refunded_cents = refunded
    if donation.status is not DonationStatus.DISPUTED:
        donation.status = _settled_status(donation)
    session.flush()
    return donation


def apply_dispute(session: Session, dispute: Obj, *, config: Config, closed: bool) -> Donation:
    donation = _donation_for_charge(
        session, _id(dispute.get("charge")), _id(dispute.get("payment_intent"))
    )
    if donation is None:
        raise EventNotReady(f"no donation for disputed charge {dispute.get('charge')} yet")
    if donation.stripe_charge_id is None:
        donation.stripe_charge_id = _id(dispute.get("charge"))
    status = str(dispute.get("status") or "")
    already_closed = donation.dispute_status in ("won", "lost")
    donation.dispute_id = _id(dispute.get("id"))
    if donation.disputed_at is None:
        donation.disputed_at = _ts(dispute.get("created")) or utcnow()
    if closed or status in ("won", "lost"):
        donation.dispute_status = status
        donation.status = DonationStatus.DISPUTED if status == "lost" else _settled_status(donation)
    elif not already_closed:
        donation.dispute_status = status or "needs_response"
        donation.status = DonationStatus.DISPUTED
        notifications.queue_dispute_alert(session, donation, dispute, config)
    session.flush()
    return donation


# Reading back


def confirmed_gift_for_intent(
    session: Session, intent_id: int
) -> tuple[Donation | None, Subscription | None]:
    """What the thanks page shows: the first payment, and for a recurring gift its subscription."""
    donation = session.scalar(
        select(Donation).where(Donation.intent_id == intent_id).order_by(Donation.id).limit(1)
    )
    subscription = session.scalar(select(Subscription).where(Subscription.intent_id == intent_id))
    return donation, subscription
