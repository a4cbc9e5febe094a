"""Stripe customers as Stripe makes them: Checkout creates one per session unless `customer` is
passed, so a supporter who gave twice has two. The card page opens the subscription's own
customer; a signed-in supporter's new gift reuses their customer; erasure blanks every one."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers.accounts import sign_in
from helpers.clients import csrf_token_from
from helpers.live_server import LiveServer
from helpers.payments import give, pay, session_id_from
from membership.extensions import db
from membership.models import Donation, Subscription, Supporter, SupporterCustomer
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


def _supporter(email: str) -> Supporter:
    db.session.expire_all()
    return db.session.scalars(select(Supporter).where(Supporter.email == email)).one()


def _customers_of(supporter: Supporter) -> list[str]:
    return list(
        db.session.scalars(
            select(SupporterCustomer.stripe_customer_id)
            .where(SupporterCustomer.supporter_id == supporter.id)
            .order_by(SupporterCustomer.id)
        )
    )


def _post_confirmed(client: FlaskClient, page: str, action: str) -> Any:
    html = client.get(page).get_data(as_text=True)
    return client.post(action, data={"csrf_token": csrf_token_from(html), "confirm": "y"})


def test_the_card_page_opens_the_subscriptions_own_customer(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    email = "twice@example.org"
    pay(standin, session_id_from(give(client, amount="300", email=email)))
    pay(standin, session_id_from(give(client, amount="500", frequency="monthly", email=email)))
    supporter = _supporter(email)
    first, second = _customers_of(supporter)
    assert first != second and supporter.stripe_customer_id == first
    subscription = db.session.scalars(select(Subscription)).one()
    one_off = db.session.scalars(select(Donation).where(Donation.amount_cents == 300)).one()
    assert one_off.stripe_customer_id == first
    remote = standin.store.get("subscription", subscription.stripe_subscription_id)
    assert subscription.stripe_customer_id == remote["customer"] == second

    sign_in(client, email)
    path = f"/account/gifts/{subscription.id}"
    response = _post_confirmed(client, path, f"{path}/card")
    assert response.status_code == 303, response.get_data(as_text=True)
    portal = standin.store.all("billing_portal.session")[-1]
    assert response.headers["Location"] == portal["url"]
    # The subscription's own customer, not the supporter's first, straight on the card form.
    assert portal["customer"] == second
    assert portal["flow"]["type"] == "payment_method_update"


def test_a_signed_in_supporters_gift_reuses_their_customer(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    email = "again@example.org"
    pay(standin, session_id_from(give(client, amount="300", email=email)))
    [customer] = _customers_of(_supporter(email))
    sign_in(client, email)
    response = give(client, amount="700", email="")
    assert response.status_code == 303
    session = standin.store.get("checkout.session", session_id_from(response))
    assert session["customer"] == customer and session["customer_email"] is None
    pay(standin, session["id"])
    assert _customers_of(_supporter(email)) == [customer]
    second = db.session.scalars(select(Donation).where(Donation.amount_cents == 700)).one()
    assert (second.stripe_customer_id, second.supporter_id) == (customer, _supporter(email).id)
    assert len(standin.store.all("customer")) == 1


def test_erasure_blanks_every_customer_even_one_typed_in_capitals(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    # The second gift's address was typed on Stripe's page in capitals: Stripe's email filter
    # is case-sensitive, so looking customers up by our lower-cased address misses it.
    pay(standin, session_id_from(give(client, amount="300", email="ann@example.org")))
    second = give(client, amount="400", email="")
    pay(standin, session_id_from(second), email="Ann@Example.org")
    customers = _customers_of(_supporter("ann@example.org"))
    assert len(customers) == 2
    assert standin.store.get("customer", customers[1])["email"] == "Ann@Example.org"

    sign_in(client, "ann@example.org")
    page = client.get("/account/delete").get_data(as_text=True)
    response = client.post(
        "/account/delete", data={"csrf_token": csrf_token_from(page), "confirm": "y"}
    )
    assert response.status_code == 303
    assert standin.flush(10)
    for customer_id in customers:
        customer = standin.store.get("customer", customer_id)
        assert (customer["email"], customer["name"]) == (None, None), customer_id
