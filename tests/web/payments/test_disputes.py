"""Disputes as Stripe's test cards open them: an inquiry is flagged and moves no money; a
chargeback moves money only with its balance transactions (withdrawn, reinstated), Stripe's
dispute fee with it; every delivery order ends in the same rows."""

from __future__ import annotations

import random
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from helpers.live_server import LiveServer
from helpers.payments import admin, give, pay, session_id_from, standin_events
from membership.extensions import db
from membership.models import (
    DisputeMovement,
    Donation,
    DonationStatus,
    EmailMessage,
    StripeEvent,
    utcnow,
)
from membership.payments.events import Event
from membership.services.staff.supporters import refundable_cents
from membership.services.stripe_webhooks import Outcome, apply_event
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")

FRAUDULENT = "4000000000000259"
INQUIRY = "4000000000001976"


def _gift(client: FlaskClient, standin: StandinServer, card: str, amount: str = "2000") -> Donation:
    pay(standin, session_id_from(give(client, amount=amount, email="d@example.org")), card=card)
    assert standin.flush(10)
    db.session.expire_all()
    return db.session.scalars(select(Donation)).one()


def _movements() -> list[tuple[int, int]]:
    db.session.expire_all()
    return [
        (m.amount_cents, m.fee_cents)
        for m in db.session.scalars(select(DisputeMovement).order_by(DisputeMovement.moved_at))
    ]


def test_a_one_off_gift_is_recorded_with_its_charge(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """Disputes and refunds name the charge; it used to be filled in only by a later event."""
    donation = _gift(client, standin, "success")
    charge = next(e for e in standin_events(standin) if e["type"] == "charge.succeeded")
    assert donation.stripe_charge_id == charge["data"]["object"]["id"]


def test_a_recurring_payment_is_recorded_with_its_charge(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    pay(standin, session_id_from(give(client, amount="500", frequency="monthly")))
    db.session.expire_all()
    donation = db.session.scalars(select(Donation)).one()
    charges = [
        e["data"]["object"] for e in standin_events(standin) if e["type"] == "charge.succeeded"
    ]
    assert donation.stripe_charge_id == charges[-1]["id"]


def test_an_inquiry_is_flagged_moves_no_money_and_stays_refundable(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """Inquiries used to be booked as lost money and blocked refunds."""
    donation = _gift(client, standin, INQUIRY)
    assert donation.dispute_status == "warning_needs_response"
    assert donation.status is DonationStatus.SUCCEEDED
    assert refundable_cents(donation) == 2000
    assert _movements() == []
    alert = db.session.scalars(select(EmailMessage).where(EmailMessage.kind == "dispute")).one()
    assert donation.receipt_number in alert.subject
    # Still refundable at Stripe too: a refund goes through and is recorded.
    gateway = app.extensions["stripe_gateway"]
    gateway.create_refund(
        payment_intent=donation.stripe_payment_intent_id, amount_cents=500, key="inq"
    )
    admin(standin, f"disputes/{donation.dispute_id}/close", {"status": "warning_closed"})
    assert standin.flush(10)
    db.session.expire_all()
    donation = db.session.get(Donation, donation.id)
    assert donation is not None
    assert (donation.refunded_cents, donation.status) == (500, DonationStatus.PARTIALLY_REFUNDED)
    assert donation.dispute_status == "warning_closed"
    assert _movements() == []


def test_a_chargeback_withdraws_the_money_and_the_fee_and_a_win_reinstates_it(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    donation = _gift(client, standin, FRAUDULENT)
    assert (donation.status, donation.dispute_status) == (DonationStatus.DISPUTED, "needs_response")
    assert refundable_cents(donation) == 0
    assert _movements() == [(2000, 1500)]
    admin(standin, f"disputes/{donation.dispute_id}/update", {"status": "under_review"})
    assert standin.flush(10)
    db.session.expire_all()
    assert db.session.get(Donation, donation.id).dispute_status == "under_review"  # type: ignore[union-attr]
    admin(standin, f"disputes/{donation.dispute_id}/close", {"status": "won"})
    assert standin.flush(10)
    db.session.expire_all()
    donation = db.session.get(Donation, donation.id)  # type: ignore[assignment]
    assert (donation.status, donation.dispute_status) == (DonationStatus.SUCCEEDED, "won")
    # The money came back; Stripe's fee did not.
    assert sorted(_movements()) == [(-2000, 0), (2000, 1500)]
    assert db.session.scalars(select(EmailMessage.kind)).all().count("dispute") == 1


def test_a_partial_chargeback_moves_only_its_amount(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    donation = _gift(client, standin, "success")
    admin(standin, f"charges/{donation.stripe_charge_id}/dispute", {"amount": 700})
    admin(standin, "disputes/" + _dispute_id(standin) + "/close", {"status": "lost"})
    assert standin.flush(10)
    db.session.expire_all()
    donation = db.session.get(Donation, donation.id)  # type: ignore[assignment]
    assert (donation.status, donation.dispute_status) == (DonationStatus.DISPUTED, "lost")
    assert _movements() == [(700, 1500)]


def _dispute_id(standin: StandinServer) -> str:
    return str(
        next(
            e["data"]["object"]["id"]
            for e in standin_events(standin)
            if e["type"] == "charge.dispute.created"
        )
    )


def _dispute_state() -> tuple[Any, ...]:
    db.session.expire_all()
    donation = db.session.scalars(select(Donation)).one()
    return (donation.status, donation.dispute_status, donation.refunded_cents, sorted(_movements()))


def test_every_order_of_a_disputes_events_ends_in_the_same_state(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """Closed before created, reinstated before withdrawn: a stale event never moves a dispute
    back, and each balance transaction counts once."""
    donation = _gift(client, standin, FRAUDULENT)
    admin(standin, f"disputes/{donation.dispute_id}/update", {"status": "under_review"})
    admin(standin, f"disputes/{donation.dispute_id}/close", {"status": "won"})
    assert standin.flush(10)
    delivered = _dispute_state()
    assert delivered[:2] == (DonationStatus.SUCCEEDED, "won")
    events = [e for e in standin_events(standin) if e["type"].startswith("charge.dispute.")]
    assert len(events) == 5
    rng = random.Random(2026)
    for order in [events[::-1]] + [rng.sample(events, len(events)) for _ in range(6)]:
        db.session.execute(delete(DisputeMovement))
        db.session.execute(delete(StripeEvent).where(StripeEvent.type.like("charge.dispute.%")))
        row = db.session.scalars(select(Donation)).one()
        row.dispute_id = row.dispute_status = row.disputed_at = None
        row.status = DonationStatus.SUCCEEDED
        db.session.commit()
        for event in order:
            outcome = apply_event(
                db.session(),
                Event.parse(event),
                gateway=app.extensions["stripe_gateway"],
                config=app.config["MEMBERSHIP"],
                now=utcnow(),
            )
            db.session.commit()
            assert outcome is Outcome.APPLIED
        assert _dispute_state() == delivered
