"""Email problems never block money: one address rule (email-validator) in every form and in the
mailer, and a money handler whose mail cannot be queued records it as failed and still records
the gift."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from helpers.factories import count, only
from helpers.live_server import LiveServer
from helpers.payments import give, pay, session_id_from
from membership.addresses import address_problem
from membership.emails.sender import InvalidEmailError, check_email_fields
from membership.extensions import db
from membership.models import Donation, EmailMessage, EmailStatus, Supporter
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


@pytest.mark.parametrize(
    "address",
    ["a,b@example.com", "a b@example.org", "ann@localhost", "x@y.test", "josé@example.org"],
)
def test_the_support_form_refuses_what_the_mailer_refuses(
    client: FlaskClient, address: str
) -> None:
    response = give(client, email=address)
    assert response.status_code == 400
    assert "Enter an email address like name@example.com" in response.get_data(as_text=True)
    with pytest.raises(InvalidEmailError):
        check_email_fields(address, "S", {})


@given(st.emails())
def test_what_the_forms_accept_the_mailer_sends(address: str) -> None:
    if address_problem(address) is None:
        check_email_fields(address, "S", {})


def test_an_unsendable_address_from_stripe_still_records_the_gift(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    # Stripe's page took an address our mailer refuses: the receipt cannot be queued, but the
    # money arrived, so the webhook must not fail (Stripe would retry it for ever).
    response = give(client, amount="500", email="")
    pay(standin, session_id_from(response), email="a,b@example.com")
    donation = only(Donation)
    assert donation.amount_cents == 500
    assert only(Supporter).email == "a,b@example.com"
    receipt = db.session.scalars(select(EmailMessage)).one()
    assert receipt.status is EmailStatus.FAILED and receipt.kind == "receipt"
    assert receipt.last_error and "not an address we can send to" in receipt.last_error
    assert count(Donation) == 1
