"""The dunning sequence and the card-expiring lookup against the Stripe stand-in, with real signed
webhooks: a failed renewal starts the sequence; Stripe cancelling the gift sends the final notice."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers.factories import only
from helpers.lifecycle import run_and_deliver
from helpers.live_server import LiveServer
from helpers.payments import admin, give, pay, session_id_from
from helpers.smtp_capture import SmtpCapture
from membership.models import FailedRenewal, Subscription, SubscriptionStatus, utcnow
from membership.services.lifecycle.run import card_expiry_from
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


def test_failed_renewal_then_stripe_cancelling_sends_day_0_and_the_final_notice(
    client: FlaskClient,
    live_server: LiveServer,
    standin: StandinServer,
    app: Flask,
    smtp: SmtpCapture,
) -> None:
    pay(
        standin,
        session_id_from(give(client, amount="500", frequency="monthly", email="m@example.org")),
    )
    subscription = only(Subscription)
    stripe_id = subscription.stripe_subscription_id
    admin(standin, f"subscriptions/{stripe_id}/fail_renewal")
    standin.flush(10)
    renewal = only(FailedRenewal)
    assert renewal.paid_at is None and renewal.fix_url.startswith(f"{standin.url}/invoice/")

    app.extensions["stripe_gateway"].cancel_subscription_now(stripe_id)
    standin.flush(10)
    assert only(Subscription).status is SubscriptionStatus.CANCELED
    mails = run_and_deliver(smtp, utcnow())
    subjects = sorted(
        str(m["Subject"]) for m in mails if "/lifecycle/" in str(m["List-Unsubscribe"])
    )
    again = run_and_deliver(smtp, utcnow())
    assert subjects == [
        "Welcome to The Observatory",
        "Your gift to The Observatory did not go through",
        "Your recurring gift to The Observatory has stopped",
    ]
    assert again == []


def test_card_expiry_is_read_from_the_subscriptions_card(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer, app: Flask
) -> None:
    pay(
        standin,
        session_id_from(give(client, amount="500", frequency="monthly", email="c@example.org")),
    )
    stripe_id = only(Subscription).stripe_subscription_id
    card = card_expiry_from(app.extensions["stripe_gateway"])(stripe_id)
    # The stand-in's test cards expire in December, three years on.
    assert (card.month, card.year) == (12, utcnow().year + 3)
