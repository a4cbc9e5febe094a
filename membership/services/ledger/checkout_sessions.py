"""Completed Checkout Sessions: a one-off gift becomes a donation; a recurring one links its
supporter and subscription (its payments arrive as invoices)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import (
    Donation,
    DonationIntent,
    DonationKind,
    IntentStatus,
    Supporter,
)
from membership.payments.objects import CheckoutSession
from membership.services.ledger.donations import (
    complete_intent,
    intent_for,
    record_donation,
    split_payment,
)
from membership.services.ledger.subscriptions import (
    create_subscription_from_intent,
    subscription_row,
)
from membership.services.supporters import find_or_create_supporter


def record_checkout_completed(
    session: Session, checkout: CheckoutSession, *, config: Config, now: datetime
) -> Donation | None:
    intent = intent_for(session, checkout.gift.intent_id, checkout.client_reference_id)
    supporter = find_or_create_supporter(
        session,
        email=checkout.payer_email or (intent.email if intent else None),
        stripe_customer_id=checkout.customer_id,
        name=checkout.payer_name or "",
    )
    if checkout.mode == "payment":
        return _record_one_off(session, checkout, intent, supporter, config=config, now=now)
    if checkout.mode != "subscription":
        return None
    # A recurring gift: its payments arrive as invoices; here the subscription meets its reader.
    if checkout.subscription_id:
        subscription = subscription_row(session, checkout.subscription_id)
        if subscription is None:
            create_subscription_from_intent(
                session,
                checkout.subscription_id,
                intent=intent,
                gift=checkout.gift,
                total=checkout.amount_total,
                supporter=supporter,
                customer_id=checkout.customer_id,
                currency=checkout.currency or config.currency,
                paid=checkout.payment_status == "paid",
                now=now,
            )
        else:
            if supporter is not None and subscription.supporter_id is None:
                subscription.supporter_id = supporter.id
            subscription.stripe_customer_id = (
                checkout.customer_id or subscription.stripe_customer_id
            )
    complete_intent(intent, now)
    session.flush()
    return None


def _record_one_off(
    session: Session,
    checkout: CheckoutSession,
    intent: DonationIntent | None,
    supporter: Supporter | None,
    *,
    config: Config,
    now: datetime,
) -> Donation | None:
    if not checkout.paid_one_off or checkout.amount_total is None:
        return None  # a delayed method: async_payment_succeeded will settle it
    gift, fee = split_payment(checkout.amount_total, checkout.gift, intent)
    donation = record_donation(
        session,
        {
            "amount_cents": gift,
            "fee_cents": fee,
            "currency": (checkout.currency or config.currency).lower(),
            "kind": DonationKind.ONE_OFF,
            "stripe_payment_intent_id": checkout.payment_intent_id,
            "stripe_checkout_session_id": checkout.id,
            "stripe_customer_id": checkout.customer_id,
            "supporter_id": supporter.id if supporter else None,
            "intent_id": intent.id if intent else None,
            "source_article_id": intent.source_article_id if intent else None,
            "variant_id": intent.variant_id if intent else None,
            "paid_at": now,
            "created_at": now,
        },
        config,
    )
    complete_intent(intent, now)
    session.flush()
    return donation


def mark_checkout_failed(session: Session, checkout: CheckoutSession, status: IntentStatus) -> None:
    """An abandoned (expired) or failed checkout: kept so staff can see abandoned attempts."""
    intent = intent_for(session, checkout.gift.intent_id, checkout.client_reference_id)
    if intent is not None and intent.status is IntentStatus.PENDING:
        intent.status = status
        session.flush()
