"""Helpers for the lifecycle tests: a recurring gift as the webhooks leave it, running the job at
a moved clock, and the lifecycle emails that reached the SMTP server."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage as MimeMessage

from flask import current_app

from helpers.newsletter import deliver
from helpers.smtp_capture import SmtpCapture
from membership.extensions import db
from membership.models import (
    BillingInterval,
    Subscription,
    SubscriptionStatus,
    Supporter,
)
from membership.payments.objects import CardExpiry
from membership.services.lifecycle.run import run

UNSUBSCRIBE = re.compile(r"https?://[^\s\"<>]+/lifecycle/unsubscribe/[A-Za-z0-9_.\-]+")
TRACKED = re.compile(r"https?://[^\s\"<>)]+/lifecycle/go/[A-Za-z0-9_.\-]+")


def make_subscription(
    supporter: Supporter,
    *,
    started_at: datetime,
    amount_cents: int = 500,
    stripe_id: str = "sub_lifecycle",
) -> Subscription:
    subscription = Subscription(
        stripe_subscription_id=stripe_id,
        supporter_id=supporter.id,
        amount_cents=amount_cents,
        fee_cents=0,
        currency="usd",
        interval=BillingInterval.MONTH,
        status=SubscriptionStatus.ACTIVE,
        started_at=started_at,
    )
    db.session.add(subscription)
    db.session.commit()
    return subscription


def no_card(subscription_id: str) -> CardExpiry:
    return CardExpiry(subscription_id, None, None)


def run_and_deliver(
    smtp: SmtpCapture, now: datetime, card_expiry: Callable[[str], CardExpiry] = no_card
) -> list[MimeMessage]:
    """Run the lifecycle job at `now`, commit as the CLI does, deliver the outbox over SMTP:
    the messages that arrived."""
    before = len(smtp.messages)
    run(db.session(), now, config=current_app.config["MEMBERSHIP"], card_expiry=card_expiry)
    db.session.commit()
    deliver(smtp, now=now)
    return smtp.messages[before:]


def text_of(message: MimeMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]
