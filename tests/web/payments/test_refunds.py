"""Refunds as Stripe makes them: pending, then succeeded or failed; the refunded total is what
the charge's refunds add up to now, so it can go down; the donor hears once, on success."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers.live_server import LiveServer
from helpers.payments import give, pay, session_id_from
from helpers.staff import make_staff, staff_client
from membership.extensions import db
from membership.models import (
    Donation,
    DonationRefund,
    DonationStatus,
    EmailMessage,
    RefundStatus,
    StaffRole,
)
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")

REFUND_FAILS = "4000000000005126"


def _paid(client: FlaskClient, standin: StandinServer, card: str = "success") -> Donation:
    pay(standin, session_id_from(give(client, amount="1000", email="back@example.org")), card=card)
    db.session.expire_all()
    return db.session.scalars(select(Donation)).one()


def _refund_all(app: Flask, standin: StandinServer, donation: Donation, key: str) -> None:
    gateway = app.extensions["stripe_gateway"]
    refund = gateway.create_refund(
        payment_intent=donation.stripe_payment_intent_id, amount_cents=None, key=key
    )
    assert refund.status == "pending"  # Stripe answers before the bank does
    assert standin.flush(10)
    db.session.expire_all()


def test_a_refund_that_fails_gives_nothing_back_and_staff_see_it_failed(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """Test card 4000000000005126: the refund is made, counted while pending, then fails. The
    total used to only ever grow: it stayed at 1000 and the gift read "refunded"."""
    donation = _paid(client, standin, card=REFUND_FAILS)
    _refund_all(app, standin, donation, "fails")
    donation = db.session.get(Donation, donation.id)
    assert donation is not None
    assert (donation.refunded_cents, donation.status) == (0, DonationStatus.SUCCEEDED)
    refund = db.session.scalars(select(DonationRefund)).one()
    assert (refund.status, refund.amount_cents) == (RefundStatus.FAILED, 1000)
    assert refund.failure_reason == "expired_or_canceled_card" and refund.confirmed_at is None
    assert db.session.scalars(select(EmailMessage.kind)).all() == ["receipt"]  # no refund mail
    page = staff_client(app, make_staff(StaffRole.FINANCE)).get(
        f"/staff/supporters/{donation.supporter_id}"
    )
    html = page.get_data(as_text=True)
    refunds_table = html[html.index('id="refunds-table"') : html.index("Recurring gifts")]
    assert "failed (expired or canceled card)" in refunds_table
    assert refund.stripe_refund_id in refunds_table
    # Nothing came back, so all of it can still be refunded.
    assert f"/donations/{donation.id}/refund" in html


def test_a_refund_that_succeeds_is_counted_once_and_the_donor_told_once(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    donation = _paid(client, standin)
    _refund_all(app, standin, donation, "works")
    donation = db.session.get(Donation, donation.id)
    assert donation is not None
    assert (donation.refunded_cents, donation.status) == (1000, DonationStatus.REFUNDED)
    refund = db.session.scalars(select(DonationRefund)).one()
    assert refund.status is RefundStatus.SUCCEEDED and refund.confirmed_at is not None
    # Four events spoke of this refund (charge.refunded, refund.created, refund.updated,
    # charge.refund.updated), in any order: one row, one email.
    mail = db.session.scalars(select(EmailMessage).where(EmailMessage.kind == "refund")).one()
    assert mail.to_address == "back@example.org"
    assert donation.receipt_number in mail.subject
    assert "We have refunded $10.00 of your gift" in mail.text_body
    assert mail.html_body is not None and "$10.00" in mail.html_body


def test_the_refunded_total_follows_stripe_when_a_refund_fails_later(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """A later event lists the same refund failed: the total goes down, the report row stops
    counting, whatever arrived before."""
    from membership.models import utcnow
    from membership.payments.objects import Refund
    from membership.services.ledger.charges import apply_refunds

    donation = _paid(client, standin)
    config = app.config["MEMBERSHIP"]
    pending = Refund("re_later", "pending", 300, donation.stripe_charge_id, None, None, None)
    session = db.session()
    apply_refunds(
        session,
        charge_id=str(donation.stripe_charge_id),
        payment_intent_id=None,
        refunds=[pending],
        config=config,
        now=utcnow(),
    )
    session.commit()
    assert (donation.refunded_cents, donation.status) == (300, DonationStatus.PARTIALLY_REFUNDED)
    failed = Refund("re_later", "canceled", 300, donation.stripe_charge_id, None, None, None)
    apply_refunds(
        session,
        charge_id=str(donation.stripe_charge_id),
        payment_intent_id=None,
        refunds=[failed],
        config=config,
        now=utcnow(),
    )
    session.commit()
    assert (donation.refunded_cents, donation.status) == (0, DonationStatus.SUCCEEDED)
    assert db.session.scalars(select(DonationRefund.status)).all() == [RefundStatus.CANCELED]
