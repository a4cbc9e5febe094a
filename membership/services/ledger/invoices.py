"""Invoices: one donation per paid invoice (a subscription's first payment included), and a
failed renewal's past-due state and email."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from membership.config import Config
from membership.models import (
    Donation,
    DonationKind,
    Subscription,
    Supporter,
)
from membership.payments.gateway import StripeGateway
from membership.payments.objects import Invoice
from membership.services import notifications
from membership.services.ledger import EventNotReady
from membership.services.ledger.donations import (
    complete_intent,
    intent_for,
    record_donation,
    split_payment,
)
from membership.services.ledger.subscriptions import (
    apply_subscription,
    create_subscription_from_intent,
    refresh_subscription,
    subscription_row,
)
from membership.services.supporters import find_or_create_supporter


def record_invoice_paid(
    session: Session,
    invoice: Invoice,
    *,
    gateway: StripeGateway,
    config: Config,
    event_created: datetime,
    now: datetime,
) -> Donation | None:
    stripe_sub_id, total = invoice.subscription_id, invoice.amount_paid
    if stripe_sub_id is None or total <= 0:
        return None  # not a recurring gift of ours, or nothing was charged (e.g. paused)
    subscription = subscription_row(session, stripe_sub_id)
    intent = intent_for(session, invoice.subscription_gift.intent_id)
    supporter = find_or_create_supporter(
        session,
        email=invoice.customer_email or (intent.email if intent else None),
        stripe_customer_id=invoice.customer_id,
        name=invoice.customer_name or "",
    )
    if subscription is None:
        subscription = create_subscription_from_intent(
            session,
            stripe_sub_id,
            intent=intent,
            gift=invoice.subscription_gift,
            total=total,
            supporter=supporter,
            customer_id=invoice.customer_id,
            currency=invoice.currency or config.currency,
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
        raise EventNotReady(f"subscription {stripe_sub_id} of invoice {invoice.id} unknown")
    if supporter is not None and subscription.supporter_id is None:
        subscription.supporter_id = supporter.id
    if subscription.stripe_customer_id is None:
        subscription.stripe_customer_id = invoice.customer_id
    payment_intent = invoice.payment_intent_id
    if payment_intent is None:
        payment_intent = gateway.retrieve_invoice(invoice.id).payment_intent_id
    if subscription.amount_cents == total:
        gift, fee = subscription.gift_cents, subscription.fee_cents
    else:
        gift, fee = split_payment(total, invoice.subscription_gift, None)
    donation = record_donation(
        session,
        {
            "amount_cents": gift,
            "fee_cents": fee,
            "currency": (invoice.currency or subscription.currency).lower(),
            "kind": DonationKind.RECURRING,
            "stripe_invoice_id": invoice.id,
            "stripe_payment_intent_id": payment_intent,
            "stripe_customer_id": invoice.customer_id or subscription.stripe_customer_id,
            "supporter_id": subscription.supporter_id,
            "subscription_id": subscription.id,
            "intent_id": subscription.intent_id,
            "source_article_id": subscription.source_article_id,
            "variant_id": subscription.variant_id,
            "paid_at": invoice.paid_at or event_created,
            "created_at": now,
        },
        config,
    )
    if invoice.billing_reason == "subscription_create":
        complete_intent(intent, now)
    session.flush()
    return donation


def record_invoice_payment_failed(
    session: Session, invoice: Invoice, *, gateway: StripeGateway, config: Config, now: datetime
) -> Subscription | None:
    """A renewal failed: the subscription is past due (as Stripe now says) and the supporter
    gets a link to fix their card."""
    if invoice.subscription_id is None:
        return None
    subscription = refresh_subscription(
        session, invoice.subscription_id, gateway=gateway, config=config, now=now
    )
    if subscription is None:
        return None
    supporter = (
        session.get(Supporter, subscription.supporter_id) if subscription.supporter_id else None
    )
    email = (supporter.email if supporter else None) or invoice.customer_email
    if email:
        notifications.queue_payment_failed(
            session,
            to=email,
            subscription=subscription,
            fix_url=invoice.hosted_invoice_url or f"{config.base_url.rstrip('/')}/account",
            attempt=invoice.attempt_count or 1,
            next_attempt=invoice.next_payment_attempt,
            invoice_id=invoice.id,
            config=config,
        )
    session.flush()
    return subscription
