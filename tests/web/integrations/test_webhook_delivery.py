"""Outgoing webhooks end to end: a gift through the stand-in, the event in the outbox, the
worker posting it signed to a receiver on loopback, verified with the standardwebhooks library."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers.factories import count, make_donation, make_supporter, only
from helpers.live_server import LiveServer
from helpers.payments import admin, give, pay, session_id_from
from helpers.staff import make_staff
from helpers.webhooks import Receiver, add_test_endpoint, deliver
from membership.config import Config
from membership.extensions import db
from membership.models import (
    DeliveryStatus,
    Donation,
    EmailMessage,
    StaffRole,
    Subscriber,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from membership.services.integrations import events
from membership.services.integrations.endpoints import EndpointError, add_endpoint
from membership.services.newsletter.consent import confirm
from membership.services.newsletter.subscriptions import unsubscribe
from membership.services.privacy import delete_account
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


def test_a_one_dollar_gift_reaches_the_receiver_once_signed_then_its_refund(
    client: FlaskClient,
    live_server: LiveServer,
    standin: StandinServer,
    app: Flask,
    receiver: Receiver,
) -> None:
    secret = add_test_endpoint(app, receiver.url, "donation.created", "donation.refunded")
    pay(standin, session_id_from(give(client, amount="100", email="Reader@Example.org")))
    # The event waits in the outbox; the worker (`flask outbox work`) sends it.
    assert only(WebhookDelivery).status is DeliveryStatus.QUEUED
    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert "webhooks: delivered 1, will retry 0, failed 0" in result.output
    assert len(receiver.received) == 1
    first = receiver.received[0]
    payload = first.verified(secret)
    assert payload["type"] == "donation.created"
    donation = payload["data"]["donation"]
    assert (donation["amount"], donation["total"], donation["currency"]) == (100, 100, "usd")
    assert donation["status"] == "succeeded" and donation["paid_at"].endswith("Z")
    assert payload["data"]["supporter"]["email"] == "reader@example.org"
    assert first.headers["webhook-id"].startswith("msg_")
    # Nothing is sent twice: a second run of the worker finds nothing due.
    assert deliver(app).claimed == 0
    assert len(receiver.received) == 1

    row = only(Donation)
    app.extensions["stripe_gateway"].create_refund(
        payment_intent=row.stripe_payment_intent_id, amount_cents=None, key="refund-1"
    )
    standin.flush(10)
    assert deliver(app).delivered == 1
    refunded = receiver.received[1].verified(secret)
    assert refunded["type"] == "donation.refunded"
    assert refunded["data"]["donation"]["refunded"] == 100
    assert refunded["data"]["donation"]["status"] == "refunded"
    assert [r["amount"] for r in refunded["data"]["donation"]["refunds"]] == [100]
    assert receiver.received[1].headers["webhook-id"] != first.headers["webhook-id"]


def test_a_receiver_answering_500_gets_retries_with_backoff_then_succeeds(
    app: Flask, receiver: Receiver
) -> None:
    secret = add_test_endpoint(app, receiver.url, "donation.created")
    receiver.statuses = [500, 500, 200]
    receiver.answer_body = b"x" * 5000
    start = utcnow()
    events.donation_event(db.session(), "donation.created", make_donation(None), now=start)
    db.session.commit()

    assert deliver(app, now=start).retried == 1
    delivery = only(WebhookDelivery)
    assert delivery.next_attempt_at == start + timedelta(seconds=30)
    assert delivery.response_status == 500
    # What the receiver said is kept, but never more than 1 KB of it.
    assert delivery.response_body is not None and len(delivery.response_body) == 1024
    assert deliver(app, now=start + timedelta(seconds=29)).claimed == 0
    assert deliver(app, now=start + timedelta(seconds=31)).retried == 1
    db.session.expire_all()
    assert only(WebhookDelivery).next_attempt_at == start + timedelta(seconds=91)
    assert deliver(app, now=start + timedelta(seconds=92)).delivered == 1

    db.session.expire_all()
    delivery = only(WebhookDelivery)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.DELIVERED,
        3,
        200,
    )
    assert len(receiver.received) == 3
    # Every attempt is the same message (one webhook-id), signed again when sent.
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert all(r.verified(secret)["type"] == "donation.created" for r in receiver.received)
    assert only(WebhookEndpoint).failing_since is None


def test_after_three_days_of_failures_the_delivery_fails_and_the_endpoint_is_disabled(
    app: Flask, receiver: Receiver
) -> None:
    admin = make_staff(StaffRole.ADMIN, "boss@observatory.example")
    make_staff(StaffRole.EDITOR, "editor@observatory.example")
    add_test_endpoint(app, receiver.url, "donation.created")
    receiver.statuses = [503]
    start = utcnow()
    events.donation_event(db.session(), "donation.created", make_donation(None), now=start)
    db.session.commit()
    assert deliver(app, now=start).retried == 1
    assert only(WebhookEndpoint).failing_since == start

    later = start + timedelta(days=3, minutes=1)
    events.donation_event(db.session(), "donation.created", make_donation(None), now=later)
    db.session.commit()
    report = deliver(app, now=later)
    db.session.expire_all()
    # The first is past its three days: failed. The endpoint has failed for three days: disabled,
    # and what it still had queued is failed with it, never sent.
    assert report.failed == 2
    assert len(receiver.received) == 2  # the first event twice; the second was never posted
    assert {d.status for d in db.session.scalars(select(WebhookDelivery))} == {
        DeliveryStatus.FAILED
    }
    endpoint = only(WebhookEndpoint)
    assert not endpoint.active and endpoint.disabled_at == later
    alert = only(EmailMessage)
    assert alert.kind == "webhook_disabled" and alert.to_address == admin.email
    assert receiver.url in alert.text_body
    # A disabled endpoint gets nothing more.
    events.donation_event(db.session(), "donation.created", make_donation(None), now=later)
    db.session.commit()
    assert count(WebhookDelivery) == 2


def test_an_endpoint_only_gets_the_events_it_asked_for(app: Flask, receiver: Receiver) -> None:
    add_test_endpoint(app, receiver.url, "donation.refunded")
    events.donation_event(db.session(), "donation.created", make_donation(None))
    db.session.commit()
    assert count(WebhookDelivery) == 0


def test_an_erased_supporters_later_events_carry_no_personal_data(
    app: Flask, receiver: Receiver
) -> None:
    secret = add_test_endpoint(
        app, receiver.url, "donation.created", "donation.refunded", "supporter.erased"
    )
    supporter = make_supporter("gone@example.org", name="Gone Person")
    donation = make_donation(supporter)
    # An event from before the erasure, still waiting in the outbox: its copy is scrubbed too.
    events.donation_event(db.session(), "donation.created", donation)
    db.session.commit()
    delete_account(db.session(), app.extensions["stripe_gateway"], supporter, now=utcnow())
    db.session.commit()
    events.donation_event(db.session(), "donation.refunded", donation)
    db.session.commit()
    assert deliver(app).delivered == 3
    bodies = [r.body for r in receiver.received]
    assert all(b"gone@example.org" not in body and b"Gone Person" not in body for body in bodies)
    before, erased, refunded = (r.verified(secret) for r in receiver.received)
    assert before["data"]["supporter"]["email"] is None
    assert erased["type"] == "supporter.erased"
    assert erased["data"]["supporter"]["erased"] is True
    assert refunded["data"]["supporter"] == {**erased["data"]["supporter"]}
    assert refunded["data"]["supporter"]["email"] is None


def test_staff_can_resend_a_delivery_with_the_same_id(app: Flask, receiver: Receiver) -> None:
    from membership.services.integrations.delivery import resend

    secret = add_test_endpoint(app, receiver.url, "donation.created")
    events.donation_event(db.session(), "donation.created", make_donation(None))
    db.session.commit()
    assert deliver(app).delivered == 1
    resend(db.session(), only(WebhookDelivery), now=utcnow())
    db.session.commit()
    assert deliver(app).delivered == 1
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert second.verified(secret)["type"] == "donation.created"


def test_the_signing_secret_is_whsec_and_base64(app: Flask, receiver: Receiver) -> None:
    secret = add_test_endpoint(app, receiver.url, "donation.created")
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24


def test_a_private_address_is_refused_in_production_mode(
    app: Flask, config: Config, receiver: Receiver
) -> None:
    production = replace(config, app_env="production", webhooks_allow_private=False)
    for url in (receiver.url.replace("http:", "https:"), "https://localhost/hooks"):
        with pytest.raises(EndpointError, match="private, loopback or link-local"):
            add_endpoint(
                db.session(),
                production,
                url=url,
                events=["donation.created"],
                description="",
                now=utcnow(),
            )
    with pytest.raises(EndpointError, match="HTTPS"):
        add_endpoint(
            db.session(),
            production,
            url="http://93.184.215.14/",
            events=["donation.created"],
            description="",
            now=utcnow(),
        )
    assert count(WebhookEndpoint) == 0


def test_delivery_checks_the_address_again_and_never_posts_to_a_private_one(
    app_factory: Callable[..., Flask], app: Flask, receiver: Receiver
) -> None:
    # Added while private addresses were allowed (or its name now resolves to one).
    add_test_endpoint(app, receiver.url, "donation.created")
    events.donation_event(db.session(), "donation.created", make_donation(None))
    db.session.commit()
    strict = app_factory(webhooks_allow_private=False)
    assert deliver(strict).retried == 1
    assert receiver.received == []
    delivery = only(WebhookDelivery)
    assert delivery.last_error is not None and "private" in delivery.last_error


def test_a_monthly_gift_and_a_dispute_send_subscription_and_dispute_events(
    client: FlaskClient,
    live_server: LiveServer,
    standin: StandinServer,
    app: Flask,
    receiver: Receiver,
) -> None:
    secret = add_test_endpoint(
        app,
        receiver.url,
        "subscription.created",
        "subscription.canceled",
        "donation.created",
        "donation.disputed",
    )
    pay(standin, session_id_from(give(client, amount="500", frequency="monthly")))
    queued = db.session.scalars(select(WebhookDelivery.payload).order_by(WebhookDelivery.id)).all()
    assert [p["type"] for p in queued] == ["subscription.created", "donation.created"]
    app.extensions["stripe_gateway"].cancel_subscription_now(
        only(Subscription).stripe_subscription_id
    )
    standin.flush(10)
    # A one-off gift, partly refunded (which tells us its charge), then disputed.
    pay(standin, session_id_from(give(client, amount="2000")))
    one_off = db.session.scalar(select(Donation).where(Donation.amount_cents == 2000))
    assert one_off is not None
    gateway = app.extensions["stripe_gateway"]
    gateway.create_refund(
        payment_intent=one_off.stripe_payment_intent_id, amount_cents=500, key="r"
    )
    standin.flush(10)
    db.session.expire_all()
    charge = db.session.scalar(select(Donation.stripe_charge_id).where(Donation.id == one_off.id))
    admin(standin, f"charges/{charge}/dispute")
    standin.flush(10)
    assert deliver(app).delivered == 5
    received = [r.verified(secret) for r in receiver.received]
    assert [p["type"] for p in received] == [
        "subscription.created",
        "donation.created",
        "subscription.canceled",
        "donation.created",
        "donation.disputed",
    ]
    assert received[0]["data"]["subscription"]["interval"] == "month"
    assert received[2]["data"]["subscription"]["status"] == "canceled"
    disputed = received[4]["data"]["donation"]
    assert disputed["status"] == "disputed" and disputed["dispute"]["opened_at"] is not None


def test_newsletter_confirmations_and_unsubscribes_send_subscriber_events(
    app: Flask, receiver: Receiver
) -> None:
    secret = add_test_endpoint(app, receiver.url, "subscriber.confirmed", "subscriber.unsubscribed")
    subscriber = Subscriber(email="list@example.org", source="footer")
    db.session.add(subscriber)
    db.session.flush()
    confirm(
        db.session(), subscriber, source="footer", wording_version="v1", ip_hash=None, now=utcnow()
    )
    unsubscribe(db.session(), subscriber, source="list-unsubscribe")
    db.session.commit()
    assert deliver(app).delivered == 2
    confirmed, left = (r.verified(secret) for r in receiver.received)
    assert confirmed["type"] == "subscriber.confirmed"
    assert confirmed["data"]["subscriber"]["consent"][0]["kind"] == "confirm"
    assert left["type"] == "subscriber.unsubscribed"
    assert left["data"]["subscriber"]["status"] == "unsubscribed"


def test_flask_worker_delivers_webhooks_with_the_email(app: Flask, receiver: Receiver) -> None:
    secret = add_test_endpoint(app, receiver.url, "donation.created")
    events.donation_event(db.session(), "donation.created", make_donation(None))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert [r.verified(secret)["type"] for r in receiver.received] == ["donation.created"]
    db.session.expire_all()
    assert only(WebhookDelivery).status is DeliveryStatus.DELIVERED
