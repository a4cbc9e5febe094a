"""Invoice events the stand-in does not produce, as Stripe sends them (endive shape, signed):
a renewal the bank wants the supporter to confirm."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers.live_server import LiveServer
from helpers.payments import give, make_event, pay, post_event, session_id_from
from membership.extensions import db
from membership.models import EmailMessage, Subscription
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")

HOSTED = "https://invoice.stripe.com/i/acct_1Nv0FGQ9RKHgCVdK/test_YWNjdF8xTnYwRkdROVJLSGdDVmRL"


def _action_required(subscription_id: str, customer: str) -> dict[str, object]:
    """An open renewal invoice waiting for 3-D Secure, as Stripe's fixture has invoices."""
    return {
        "id": "in_1Pgc6zB7WZ01zgkWaction",
        "object": "invoice",
        "amount_due": 500,
        "amount_paid": 0,
        "amount_remaining": 500,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "currency": "usd",
        "customer": customer,
        "customer_email": None,
        "hosted_invoice_url": HOSTED,
        "next_payment_attempt": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription_id},
            "type": "subscription_details",
        },
        "status": "open",
        "status_transitions": {"paid_at": None},
    }


def test_a_renewal_the_bank_wants_confirmed_emails_the_invoice_link(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """`invoice.payment_action_required` used to be stored and ignored: the supporter never
    heard, and the renewal lapsed."""
    pay(
        standin,
        session_id_from(give(client, amount="500", frequency="monthly", email="m@example.org")),
    )
    subscription = db.session.scalars(select(Subscription)).one()
    customer = standin.store.objects[subscription.stripe_subscription_id]["customer"]
    invoice = _action_required(subscription.stripe_subscription_id, customer)
    event = make_event("invoice.payment_action_required", invoice, event_id="evt_action")
    assert post_event(client, event).get_json() == {"received": "applied"}
    again = make_event("invoice.payment_action_required", invoice, event_id="evt_action_again")
    assert post_event(client, again).status_code == 200  # one email per invoice
    mail = db.session.scalars(
        select(EmailMessage).where(EmailMessage.kind == "payment_action_required")
    ).one()
    assert mail.to_address == "m@example.org"
    assert "your bank asks you to confirm" in mail.subject
    assert HOSTED in mail.text_body and "$5.00 a month" in mail.text_body
    assert mail.html_body is not None and f'href="{HOSTED}"' in mail.html_body
