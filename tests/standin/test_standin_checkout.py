"""One-off and subscription checkout through the simulated hosted page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import stripe

from stripe_standin import StandinServer


def test_session_shape(payment_session: Any, server: StandinServer) -> None:
    session = payment_session(750)
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{server.url}/checkout/{session.id}"
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.amount_total == 750
    assert session.currency == "eur"
    assert session.expires_at > session.created
    assert session.livemode is False
    assert session.metadata["intent_id"] == "12"
    assert session.client_reference_id == "intent-12"


def test_one_off_paid_through_hosted_page(
    payment_session: Any,
    http: Any,
    client: stripe.StripeClient,
    server: StandinServer,
    receiver: Any,
    subseq: Any,
) -> None:
    session = payment_session(500)
    status, _headers, page = http.request("GET", f"/checkout/{session.id}")
    assert status == 200
    assert "Simulated checkout: no real money" in page
    assert "€5.00" in page and "One-off donation" in page
    assert 'value="reader@example.org"' in page
    assert "Visa ending 4242 (succeeds)" in page and "Visa ending 0002 (declined)" in page
    assert 'href="http://app.test/donate"' in page

    status, headers, _ = http.request(
        "POST", f"/checkout/{session.id}/pay", form={"card": "success", "email": ""}
    )
    assert status == 303
    assert headers["location"] == f"http://app.test/thanks?session_id={session.id}"

    assert server.flush()
    assert receiver.bad_signatures == 0
    expected = ["payment_intent.succeeded", "charge.succeeded", "checkout.session.completed"]
    assert subseq(expected, receiver.types())
    completed = [e for e in receiver.events if e["type"] == "checkout.session.completed"][0]
    obj = completed["data"]["object"]
    assert obj["status"] == "complete" and obj["payment_status"] == "paid"
    assert obj["customer_details"]["email"] == "reader@example.org"
    assert completed["api_version"] == "2026-10-28.endive"
    assert completed["livemode"] is False and completed["pending_webhooks"] == 1
    assert client.v1.events.retrieve(completed["id"]).pending_webhooks == 0  # delivered

    session = client.v1.checkout.sessions.retrieve(session.id)
    # customer_creation defaults to if_required in payment mode: a guest payment, no customer.
    assert session.customer is None and session.customer_creation == "if_required"
    pi = client.v1.payment_intents.retrieve(str(session.payment_intent))
    assert pi.status == "succeeded" and pi.metadata["intent_id"] == "12"
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.paid and not charge.refunded and charge.amount_refunded == 0
    assert charge.payment_intent == pi.id and charge.amount == 500
    assert charge.billing_details.email == "reader@example.org"
    assert charge.disputed is False

    status, _h, page = http.request("GET", f"/checkout/{session.id}")
    assert status == 200 and "complete" in page
    # expand works harmlessly
    session = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent"]}
    )
    assert session.payment_intent.id == pi.id  # type: ignore[union-attr]


def test_decline_then_success(
    payment_session: Any, http: Any, client: stripe.StripeClient, receiver: Any, server: Any
) -> None:
    session = payment_session(500)
    status, _h, page = http.request(
        "POST", f"/checkout/{session.id}/pay", form={"card": "decline", "email": ""}
    )
    assert status == 402
    assert "Your card was declined. Try another card." in page
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    status, headers, _ = http.request(
        "POST", f"/checkout/{session.id}/pay", form={"card": "success", "email": ""}
    )
    assert status == 303
    server.flush()
    types = receiver.types()
    assert types.index("payment_intent.payment_failed") < types.index("payment_intent.succeeded")
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_email_required_without_customer(
    payment_session: Any, http: Any, client: stripe.StripeClient
) -> None:
    session = payment_session(500, customer_email=None)
    _s, _h, page = http.request("GET", f"/checkout/{session.id}")
    assert re.search(r'<input type="email"[^>]*required', page)
    status, _h, page = http.request(
        "POST", f"/checkout/{session.id}/pay", form={"card": "success", "email": ""}
    )
    assert status == 400 and "Enter your email address." in page
    status, _h, _p = http.request(
        "POST", f"/checkout/{session.id}/pay", form={"card": "success", "email": "x@y.org"}
    )
    assert status == 303
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.customer_details.email == "x@y.org"  # type: ignore[union-attr]


def test_validation_errors(client: stripe.StripeClient, payment_session: Any) -> None:
    bad_amount = [
        {
            "price_data": {"currency": "eur", "unit_amount": 0, "product_data": {"name": "x"}},
            "quantity": 1,
        }
    ]
    try:
        payment_session(line_items=bad_amount)
    except stripe.InvalidRequestError as exc:
        assert exc.param == "line_items[0][price_data][unit_amount]"
        assert exc.http_status == 400
    else:  # pragma: no cover
        raise AssertionError("expected InvalidRequestError")
    for extra in ({"success_url": None}, {"mode": "subscription"}):
        try:
            payment_session(**extra)
        except stripe.InvalidRequestError:
            pass
        else:  # pragma: no cover
            raise AssertionError(f"expected an error for {extra}")
    try:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    except stripe.InvalidRequestError as exc:
        assert exc.http_status == 404 and exc.code == "resource_missing"
    else:  # pragma: no cover
        raise AssertionError("expected 404")


def test_expire_and_list(payment_session: Any, client: stripe.StripeClient, http: Any) -> None:
    first = payment_session(100)
    second = payment_session(200)
    expired = client.v1.checkout.sessions.expire(first.id)
    assert expired.status == "expired"
    _s, _h, page = http.request("GET", f"/checkout/{first.id}")
    assert "expired" in page
    listed = client.v1.checkout.sessions.list(
        params={"created": {"gte": first.created}, "status": "open", "limit": 5}
    )
    assert [s.id for s in listed.data] == [second.id]


def test_subscription_checkout(
    subscription_session: Any,
    http: Any,
    client: stripe.StripeClient,
    server: StandinServer,
    receiver: Any,
    subseq: Any,
) -> None:
    session = subscription_session(1200, "month")
    _s, _h, page = http.request("GET", f"/checkout/{session.id}")
    assert "€12.00" in page and "per month" in page and "Monthly membership" in page
    status, headers, _ = http.request(
        "POST", f"/checkout/{session.id}/pay", form={"card": "success", "email": ""}
    )
    assert status == 303
    server.flush()
    expected = [
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ]
    assert subseq(expected, receiver.types()), receiver.types()
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.subscription and session.invoice and session.customer
    sub = client.v1.subscriptions.retrieve(str(session.subscription))
    assert sub.status == "active" and sub.metadata["intent_id"] == "34"
    item = sub["items"]["data"][0]
    assert item["price"]["unit_amount"] == 1200
    assert item["price"]["recurring"]["interval"] == "month"
    start = dt.datetime.fromtimestamp(item["current_period_start"], dt.UTC)
    end = dt.datetime.fromtimestamp(item["current_period_end"], dt.UTC)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1
    assert sub.latest_invoice == session.invoice
    assert sub.cancel_at_period_end is False and sub.pause_collection is None

    paid = [e for e in receiver.events if e["type"] == "invoice.paid"][0]["data"]["object"]
    assert paid["parent"]["subscription_details"]["subscription"] == sub.id
    assert paid["parent"]["subscription_details"]["metadata"]["intent_id"] == "34"
    assert paid["billing_reason"] == "subscription_create"
    assert paid["amount_paid"] == 1200 and paid["customer_email"] == "member@example.org"
    assert paid["lines"]["data"][0]["period"]["end"] == item["current_period_end"]
    payment = paid["payments"]["data"][0]["payment"]
    assert payment["type"] == "payment_intent" and payment["payment_intent"].startswith("pi_")

    invoice = client.v1.invoices.retrieve(str(session.invoice), params={"expand": ["payments"]})
    assert invoice.payments.data[0].payment.payment_intent == payment["payment_intent"]  # type: ignore[union-attr]
    pi = client.v1.payment_intents.retrieve(payment["payment_intent"])
    assert pi.status == "succeeded" and pi.amount == 1200
    listed = client.v1.invoices.list(params={"subscription": sub.id})
    assert [i.id for i in listed.data] == [invoice.id]


def test_yearly_period(subscribed: Any) -> None:
    sub = subscribed(5000, "year")
    item = sub["items"]["data"][0]
    start = dt.datetime.fromtimestamp(item["current_period_start"], dt.UTC)
    end = dt.datetime.fromtimestamp(item["current_period_end"], dt.UTC)
    assert end.year == start.year + 1 and end.month == start.month


def _paid_session(
    payment_session: Any, http: Any, client: stripe.StripeClient, email: str, **extra: Any
) -> Any:
    session = payment_session(500, **extra)
    status, _headers, _page = http.request(
        "POST", f"/checkout/{session.id}/pay", form={"card": "success", "email": email}
    )
    assert status == 303
    return client.v1.checkout.sessions.retrieve(session.id)


def test_every_session_makes_its_own_customer_unless_one_is_passed(
    payment_session: Any, http: Any, client: stripe.StripeClient
) -> None:
    """As in Stripe: Checkout never finds a customer by email. Two gifts from one address make
    two customers; passing `customer` reuses it."""
    first = _paid_session(payment_session, http, client, "", customer_creation="always")
    second = _paid_session(payment_session, http, client, "", customer_creation="always")
    assert first.customer and second.customer and first.customer != second.customer
    again = _paid_session(
        payment_session, http, client, "", customer=first.customer, customer_email=None
    )
    assert again.customer == first.customer
    listed = client.v1.customers.list(params={"email": "reader@example.org"})
    assert {c.id for c in listed.data} == {first.customer, second.customer}


def test_the_customer_email_filter_is_case_sensitive(client: stripe.StripeClient) -> None:
    typed = client.v1.customers.create(params={"email": "Reader@Example.org"})
    assert [c.id for c in client.v1.customers.list(params={"email": "Reader@Example.org"})] == [
        typed.id
    ]
    assert client.v1.customers.list(params={"email": "reader@example.org"}).data == []


def test_the_portal_opens_on_the_card_update_flow(
    client: stripe.StripeClient, payment_session: Any, http: Any
) -> None:
    paid = _paid_session(payment_session, http, client, "", customer_creation="always")
    portal = client.v1.billing_portal.sessions.create(
        params={
            "customer": str(paid.customer),
            "return_url": "http://app.test/account",
            "flow_data": {"type": "payment_method_update"},
        }
    )
    assert portal.flow is not None and portal.flow.type == "payment_method_update"
    with pytest.raises(stripe.InvalidRequestError, match="flow_data"):
        client.v1.billing_portal.sessions.create(
            params={"customer": str(paid.customer), "flow_data": {"type": "nonsense"}}
        )
