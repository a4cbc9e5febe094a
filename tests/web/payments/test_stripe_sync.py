"""`flask stripe sync` after lost webhooks: one run restores every gift, refund, dispute and
subscription state and exits 0, whatever order events of one second come in; a second run
changes nothing; gifts found only by reconciling are dated when they were paid."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers.factories import count
from helpers.live_server import LiveServer
from helpers.payments import admin, give, pay, session_id_from
from membership.extensions import db, limiter
from membership.models import DisputeMovement, Donation, DonationRefund, EmailMessage, Subscription
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


def _gift(client: FlaskClient, standin: StandinServer, amount: str, **options: str) -> None:
    limiter.reset()  # one reader giving five times in a minute: not what the limit is about
    card = options.pop("card", "success")
    pay(standin, session_id_from(give(client, amount=amount, **options)), card=card)


def _books() -> tuple[Any, ...]:
    db.session.expire_all()
    donations = sorted(
        (
            d.amount_cents,
            d.status.value,
            d.refunded_cents,
            d.dispute_status or "",
            d.stripe_charge_id,
        )
        for d in db.session.scalars(select(Donation))
    )
    subscriptions = [s.status.value for s in db.session.scalars(select(Subscription))]
    refunds = sorted(r.status.value for r in db.session.scalars(select(DonationRefund)))
    return donations, subscriptions, refunds, count(DisputeMovement), count(EmailMessage)


def _lose_a_day_of_webhooks(app: Flask, client: FlaskClient, standin: StandinServer) -> None:
    admin(standin, "deliveries", {"enabled": False})
    gateway = app.extensions["stripe_gateway"]
    for amount in ("300", "400", "500"):
        _gift(client, standin, amount)
    for checkout in standin.store.all("checkout.session"):
        gateway.create_refund(
            payment_intent=checkout["payment_intent"], amount_cents=100, key=checkout["id"]
        )
    _gift(client, standin, "600", card="4000000000000259")
    _gift(client, standin, "700", frequency="monthly")
    assert count(Donation) == 0


def test_one_sync_run_restores_everything_after_lost_webhooks(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """Refunds and disputes share a second with the payment they are about; sorted by
    (created, id), some came before their gift and the run exited 1 with gifts missing. Here
    every event shares one second (the clock stands still), so their ids alone order them."""
    with time_machine.travel(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), tick=False):
        _lose_a_day_of_webhooks(app, client, standin)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["stripe", "sync", "--since", "2026-11-01T00:00"])
    assert result.exit_code == 0, result.output
    restored = _books()
    donations, subscriptions, refunds, movements, _emails = restored
    assert [d[:4] for d in donations] == [
        (300, "partially_refunded", 100, ""),
        (400, "partially_refunded", 100, ""),
        (500, "partially_refunded", 100, ""),
        (600, "disputed", 0, "needs_response"),
        (700, "succeeded", 0, ""),
    ]
    assert all(d[4] for d in donations)  # every gift knows its charge
    assert subscriptions == ["active"] and refunds == ["succeeded"] * 3 and movements == 1
    again = runner.invoke(args=["stripe", "sync", "--since", "2026-11-01T00:00"])
    assert again.exit_code == 0, again.output
    assert "0 applied" in again.output
    assert _books() == restored


def test_a_gift_found_only_by_reconciling_is_dated_when_it_was_paid(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """Stripe, rarely, creates no event at all. The gift used to be dated by the Checkout
    Session's start, however long the reader took on Stripe's page."""
    admin(standin, "deliveries", {"enabled": False})
    session_id = session_id_from(give(client, amount="800"))
    opened = int(datetime(2026, 11, 30, 9, 0, tzinfo=UTC).timestamp())
    with standin.store.lock:
        standin.store.objects[session_id]["created"] = opened  # the reader took their time
    pay(standin, session_id)
    with standin.store.lock:
        standin.store.events.clear()  # no event was ever created
        charge = standin.store.all("charge")[-1]
    result = app.test_cli_runner().invoke(args=["stripe", "sync", "--since", "2026-11-01T00:00"])
    assert result.exit_code == 0, result.output
    donation = db.session.scalars(select(Donation)).one()
    assert donation.paid_at == datetime.fromtimestamp(charge["created"], tz=UTC)
    assert donation.stripe_charge_id == charge["id"]
