"""Managing a recurring gift from the account, through the real stripe library, the stand-in and
its signed webhooks; and privacy: the data export and deleting the account."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Text, cast, func, select

from helpers.accounts import sign_in
from helpers.clients import csrf_token_from
from helpers.factories import make_donation, make_supporter
from helpers.live_server import LiveServer
from helpers.payments import admin, give, pay, session_id_from
from membership.extensions import db
from membership.formatting import format_date
from membership.models import (
    Base,
    Donation,
    DonationIntent,
    EmailMessage,
    SignInToken,
    StripeEvent,
    Subscription,
    SubscriptionStatus,
    Supporter,
    utcnow,
)
from membership.services.checkout import processing_fee
from membership.services.privacy import register_personal_data
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


def monthly_supporter(
    client: FlaskClient,
    standin: StandinServer,
    *,
    email: str = "monthly@example.org",
    amount: str = "500",
    cover_fee: bool = False,
    frequency: str = "monthly",
) -> Subscription:
    """Give monthly through the form and the stand-in's checkout, then sign in."""
    response = give(client, amount=amount, frequency=frequency, email=email, cover_fee=cover_fee)
    pay(standin, session_id_from(response))
    sign_in(client, email)
    db.session.expire_all()
    subscription = db.session.scalar(
        select(Subscription)
        .join(Supporter, Supporter.id == Subscription.supporter_id)
        .where(Supporter.email == email)
    )
    assert subscription is not None
    return subscription


def post_form(client: FlaskClient, page_path: str, action: str, data: dict[str, str]) -> Any:
    page = client.get(page_path)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    return client.post(
        action, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data}
    )


def remote(standin: StandinServer, subscription: Subscription) -> dict[str, Any]:
    return dict(standin.store.get("subscription", subscription.stripe_subscription_id))


@contextmanager
def stripe_failing_once(standin: StandinServer) -> Iterator[None]:
    """The stand-in answers the next API call with a 500, as Stripe does on a bad day."""
    admin(standin, "faults", {"fail_next": 1})
    try:
        yield
    finally:
        admin(standin, "faults", {"fail_next": 0})


def refreshed(subscription: Subscription) -> Subscription:
    db.session.expire_all()
    row = db.session.get(Subscription, subscription.id)
    assert row is not None
    return row


def test_change_amount_goes_to_stripe_first_and_the_webhook_updates_our_row(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin, cover_fee=True)
    assert (subscription.amount_cents, subscription.fee_cents) == (546, 46)
    path = f"/account/gifts/{subscription.id}"
    response = post_form(
        client,
        path,
        f"{path}/change",
        {"amount": "12.50", "frequency": "monthly", "cover_fee": "y"},
    )
    assert response.status_code == 303
    fee = processing_fee(1250, 2.9, 30)
    assert fee == 69  # $12.50 arrives whole: (1250 + 30) / (1 - 0.029), rounded up
    item = remote(standin, subscription)["items"]["data"][0]
    assert item["price"]["unit_amount"] == 1250 + fee
    assert remote(standin, subscription)["metadata"]["gift_cents"] == "1250"
    assert remote(standin, subscription)["metadata"]["fee_cents"] == str(fee)
    assert standin.flush(10)
    row = refreshed(subscription)
    assert (row.amount_cents, row.fee_cents, row.gift_cents) == (1250 + fee, fee, 1250)
    page = client.get(path).get_data(as_text=True)
    assert "$12.50 a month" in page and "Updating" not in page
    # The next renewal charges the new amount, split into gift and fee for the receipt.
    admin(standin, f"subscriptions/{subscription.stripe_subscription_id}/renew")
    assert standin.flush(10)
    db.session.expire_all()
    newest = db.session.scalars(select(Donation).order_by(Donation.id.desc())).first()
    assert newest is not None and (newest.amount_cents, newest.fee_cents) == (1250, fee)


def test_switching_to_annual_keeps_the_period_and_charges_nothing_now(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """Through a subscription schedule: the paid month runs out as it is, the annual amount is
    charged at the renewal and the year starts there. (With `trial_end`, as before, Stripe
    turns the subscription `trialing` and moves its billing anchor.)"""
    subscription = monthly_supporter(client, standin)
    invoices_before = len(standin.store.all("invoice"))
    path = f"/account/gifts/{subscription.id}"
    response = post_form(client, path, f"{path}/change", {"amount": "60", "frequency": "annual"})
    assert response.status_code == 303
    assert standin.flush(10)
    row = refreshed(subscription)
    # Nothing changes before the renewal: not the status, not the period, not the amount.
    assert (row.status.value, row.interval.value, row.amount_cents) == ("active", "month", 500)
    assert row.current_period_end == subscription.current_period_end
    assert len(standin.store.all("invoice")) == invoices_before
    remote = standin.store.get("subscription", subscription.stripe_subscription_id)
    assert (remote["status"], remote["trial_end"]) == ("active", None)
    assert remote["schedule"] is not None
    period_end = subscription.current_period_end
    assert period_end is not None
    # The page says what is coming, and when; the account overview too.
    coming = f"From your payment on {format_date(period_end, ZoneInfo('UTC'))}: $60 a year"
    assert coming in client.get(path).get_data(as_text=True)
    assert coming in client.get("/account").get_data(as_text=True)
    admin(standin, f"subscriptions/{subscription.stripe_subscription_id}/renew")
    assert standin.flush(10)
    row = refreshed(subscription)
    assert (row.status.value, row.interval.value, row.amount_cents) == ("active", "year", 6000)
    assert row.next_change_at is None
    assert "From your payment on" not in client.get(path).get_data(as_text=True)
    assert row.current_period_end is not None
    assert row.current_period_end.date() == period_end.date().replace(year=period_end.year + 1)
    newest = db.session.scalars(select(Donation).order_by(Donation.id.desc())).first()
    assert newest is not None and (newest.amount_cents, newest.fee_cents) == (6000, 0)
    assert standin.store.get("subscription", row.stripe_subscription_id)["schedule"] is None


def test_a_switch_asked_for_can_be_taken_back_before_the_renewal(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    """Annual asked for, then today's $5 a month again: nothing is shown as coming, and the
    renewal charges $5 for another month (Stripe's schedule was changed back, not left)."""
    subscription = monthly_supporter(client, standin)
    path = f"/account/gifts/{subscription.id}"
    post_form(client, path, f"{path}/change", {"amount": "60", "frequency": "annual"})
    assert standin.flush(10)
    assert "From your payment on" in client.get(path).get_data(as_text=True)
    response = post_form(client, path, f"{path}/change", {"amount": "5", "frequency": "monthly"})
    assert response.status_code == 303
    assert standin.flush(10)
    assert "From your payment on" not in client.get(path).get_data(as_text=True)
    assert refreshed(subscription).next_change_at is None
    # Asking for today's gift once more, with nothing coming, is refused as before.
    again = post_form(client, path, f"{path}/change", {"amount": "5", "frequency": "monthly"})
    assert again.status_code == 400
    assert "already your gift" in again.get_data(as_text=True)
    admin(standin, f"subscriptions/{subscription.stripe_subscription_id}/renew")
    assert standin.flush(10)
    row = refreshed(subscription)
    assert (row.status.value, row.interval.value, row.amount_cents) == ("active", "month", 500)
    newest = db.session.scalars(select(Donation).order_by(Donation.id.desc())).first()
    assert newest is not None and newest.amount_cents == 500


def test_a_trial_end_makes_stripe_trial_and_re_anchor(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer, app: Flask
) -> None:
    """The stand-in does what Stripe does with `trial_end`, so the old way would show."""
    subscription = monthly_supporter(client, standin)
    period_end = subscription.current_period_end
    assert period_end is not None
    trial_end = int((period_end + timedelta(days=3)).timestamp())
    client_api = app.extensions["stripe_gateway"].api()
    updated = client_api.v1.subscriptions.update(
        subscription.stripe_subscription_id, params={"trial_end": trial_end}
    )
    assert updated.status == "trialing" and updated.billing_cycle_anchor == trial_end
    assert updated["items"].data[0].current_period_end == trial_end


def test_the_page_says_updating_until_the_webhook_arrives(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin)
    admin(standin, "deliveries", {"enabled": False})
    path = f"/account/gifts/{subscription.id}"
    post_form(client, path, f"{path}/change", {"amount": "7", "frequency": "monthly"})
    page = client.get(path).get_data(as_text=True)
    assert "Updating" in page and 'http-equiv="refresh"' in page
    assert "Updating" in client.get("/account").get_data(as_text=True)
    assert refreshed(subscription).amount_cents == 500  # our row waits for Stripe's word
    # Three minutes on, without the webhook: no more refreshing, just the truth. (The session
    # cookie re-signed "in the future" would be refused once back in the present: keep ours.)
    cookie = client.get_cookie("session")
    assert cookie is not None
    with time_machine.travel(utcnow() + timedelta(minutes=3), tick=False):
        late = client.get(path).get_data(as_text=True)
        late_home = client.get("/account").get_data(as_text=True)
    client.set_cookie("session", cookie.value)
    assert "hasn't confirmed your change yet" in late
    assert 'http-equiv="refresh"' not in late
    assert "hasn't confirmed your change yet" in late_home
    assert 'http-equiv="refresh"' not in late_home
    event = next(
        e for e in reversed(standin.store.events) if e["type"] == "customer.subscription.updated"
    )
    admin(standin, f"events/{event['id']}/resend")
    assert standin.flush(10)
    page = client.get(path).get_data(as_text=True)
    assert "Updating" not in page and "$7 a month" in page


def test_pause_resume_cancel_and_keep(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin)
    path = f"/account/gifts/{subscription.id}"
    assert post_form(client, path, f"{path}/pause", {"months": "2"}).status_code == 303
    assert standin.flush(10)
    pause = remote(standin, subscription)["pause_collection"]
    assert pause["behavior"] == "void"
    row = refreshed(subscription)
    assert row.paused_until is not None and int(row.paused_until.timestamp()) == pause["resumes_at"]
    page = client.get(path).get_data(as_text=True)
    assert "Paused until" in page and "Resume my gift" in page
    # A renewal during the pause charges nothing.
    donations_before = len(db.session.scalars(select(Donation)).all())
    admin(standin, f"subscriptions/{subscription.stripe_subscription_id}/renew")
    assert standin.flush(10)
    db.session.expire_all()
    assert len(db.session.scalars(select(Donation)).all()) == donations_before

    assert post_form(client, path, f"{path}/resume", {}).status_code == 303
    assert standin.flush(10)
    assert remote(standin, subscription)["pause_collection"] is None
    assert refreshed(subscription).paused_until is None

    offer = client.get(f"{path}/cancel").get_data(as_text=True)
    assert "Lower my amount instead" in offer
    assert offer.index("Lower my amount instead") < offer.index("No thanks, cancel my gift")
    response = post_form(client, f"{path}/cancel", f"{path}/cancel", {})
    assert response.status_code == 303
    assert standin.flush(10)
    assert remote(standin, subscription)["cancel_at_period_end"] is True
    row = refreshed(subscription)
    assert row.cancel_at_period_end and row.status is SubscriptionStatus.ACTIVE
    assert "Ends on" in client.get(path).get_data(as_text=True)

    assert post_form(client, path, f"{path}/keep", {}).status_code == 303
    assert standin.flush(10)
    assert refreshed(subscription).cancel_at_period_end is False


def test_the_lower_amount_offer_changes_the_gift_instead_of_cancelling(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin, amount="1000")
    path = f"/account/gifts/{subscription.id}"
    offer = client.get(f"{path}/cancel").get_data(as_text=True)
    assert "Give $5 a month instead" in offer
    response = client.post(
        f"{path}/change",
        data={"csrf_token": csrf_token_from(offer), "amount": "5.00", "frequency": "monthly"},
    )
    assert response.status_code == 303
    assert standin.flush(10)
    row = refreshed(subscription)
    assert row.amount_cents == 500 and not row.cancel_at_period_end


def test_update_card_opens_stripes_billing_portal(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin)
    path = f"/account/gifts/{subscription.id}"
    response = post_form(client, path, f"{path}/card", {})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"{standin.url}/portal/")
    portal = standin.store.all("billing_portal.session")[-1]
    assert portal["return_url"].endswith(path)
    assert portal["customer"] == only_supporter("monthly@example.org").stripe_customer_id


def test_bad_changes_are_400_with_a_message_and_nothing_reaches_stripe(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin)
    path = f"/account/gifts/{subscription.id}"
    before = remote(standin, subscription)
    for data, message in [
        ({"amount": "0.50", "frequency": "monthly"}, "The smallest gift"),
        ({"amount": "abc", "frequency": "monthly"}, "Enter an amount"),
        ({"amount": "5", "frequency": "weekly"}, "every month or every year"),
        ({"amount": "5", "frequency": "monthly"}, "already your gift"),
    ]:
        response = post_form(client, path, f"{path}/change", data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert post_form(client, path, f"{path}/pause", {"months": "4"}).status_code == 400
    assert post_form(client, path, f"{path}/resume", {}).status_code == 400  # not paused
    assert remote(standin, subscription)["items"] == before["items"]
    assert remote(standin, subscription)["pause_collection"] is None


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("change", {"amount": "7", "frequency": "monthly"}),
        ("pause", {"months": "1"}),
        ("cancel", {}),
        ("card", {}),
    ],
)
def test_stripe_failing_leaves_the_gift_as_it_was_and_says_so(
    client: FlaskClient,
    live_server: LiveServer,
    standin: StandinServer,
    action: str,
    data: dict[str, str],
) -> None:
    subscription = monthly_supporter(client, standin)
    path = f"/account/gifts/{subscription.id}"
    before = remote(standin, subscription)
    csrf = csrf_token_from(client.get(path).get_data(as_text=True))
    with stripe_failing_once(standin):
        response = client.post(f"{path}/{action}", data={"csrf_token": csrf, **data})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert 'class="notice notice--error" role="alert"' in page
    assert "couldn&#39;t reach our payment provider" in page
    after = remote(standin, subscription)
    for key in ("items", "pause_collection", "cancel_at_period_end"):
        assert after[key] == before[key], key
    # Nothing was asked of Stripe, so nothing is waited for.
    assert "Updating" not in client.get(path).get_data(as_text=True)


def test_annual_gifts_cannot_be_paused(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin, frequency="annual", amount="5000")
    path = f"/account/gifts/{subscription.id}"
    assert "Take a break" not in client.get(path).get_data(as_text=True)
    response = post_form(client, path, f"{path}/pause", {"months": "1"})
    assert response.status_code == 400
    assert "Only monthly gifts" in response.get_data(as_text=True)


def test_nobody_can_touch_another_supporters_gift(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin)
    stranger = app.test_client()
    sign_in(stranger, "stranger@example.org")
    csrf = csrf_token_from(stranger.get("/account/preferences").get_data(as_text=True))
    path = f"/account/gifts/{subscription.id}"
    assert stranger.get(path).status_code == 404
    assert stranger.get(f"{path}/cancel").status_code == 404
    for action, data in [
        ("change", {"amount": "1", "frequency": "monthly"}),
        ("pause", {"months": "1"}),
        ("resume", {}),
        ("cancel", {}),
        ("keep", {}),
        ("card", {}),
    ]:
        response = stranger.post(f"{path}/{action}", data={"csrf_token": csrf, **data})
        assert response.status_code == 404, action
    assert remote(standin, subscription)["cancel_at_period_end"] is False
    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 302


# Privacy


def _export(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    data: dict[str, Any] = json.loads(response.get_data(as_text=True))
    return data


def test_the_export_holds_every_row_about_the_person_and_nobody_elses(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    # Someone else gives too, with a similar address: none of it may appear.
    other = app.test_client()
    give(other, amount="700", frequency="once", email="other.monthly@example.org")
    pay(standin, session_id_from(give(other, amount="900", email="other.monthly@example.org")))
    subscription = monthly_supporter(client, standin, email="monthly@example.org")
    data = _export(client)
    tables = data["tables"]
    me = only_supporter("monthly@example.org")
    assert [row["id"] for row in tables["supporter"]] == [me.id]
    assert "password_hash" not in tables["supporter"][0]
    assert {row["id"] for row in tables["donation"]} == set(
        db.session.scalars(select(Donation.id).where(Donation.supporter_id == me.id))
    )
    assert [row["id"] for row in tables["subscription"]] == [subscription.id]
    assert {row["email"] for row in tables["donation_intent"]} == {"monthly@example.org"}
    assert tables["email_message"] and all(
        row["to_address"] == "monthly@example.org" for row in tables["email_message"]
    )
    assert {row["kind"] for row in tables["email_message"]} >= {"receipt", "sign_in"}
    assert tables["sign_in_token"] and all(
        "token_hash" not in row and row["email"] == "monthly@example.org"
        for row in tables["sign_in_token"]
    )
    assert tables["stripe_event"]
    text = json.dumps(data)
    assert "other.monthly@example.org" not in text
    # Every table that can hold a supporter's address or point at a supporter is in the export
    # (staff accounts are the newsroom's, not supporters').
    for table in Base.metadata.sorted_tables:
        if table.name == "staff_member":
            continue
        personal = any(
            column.name in ("email", "to_address", "supporter_id")
            or any(fk.column.table.name == "supporter" for fk in column.foreign_keys)
            for column in table.columns
        )
        if personal:
            assert table.name in tables, table.name


def only_supporter(email: str) -> Supporter:
    db.session.expire_all()
    supporter = db.session.scalar(select(Supporter).where(Supporter.email == email))
    assert supporter is not None
    return supporter


def test_other_modules_can_add_their_personal_data(client: FlaskClient) -> None:
    from membership.services import privacy

    registered = list(privacy._EXTENSIONS)
    erased: list[int] = []
    register_personal_data(
        lambda session, supporter: {"newsletter_consent": [{"supporter": supporter.id}]},
        lambda session, supporter: erased.append(supporter.id),
    )
    try:
        sign_in(client, "hooks@example.org")
        me = only_supporter("hooks@example.org")
        assert _export(client)["tables"]["newsletter_consent"] == [{"supporter": me.id}]
        page = client.get("/account/delete").get_data(as_text=True)
        client.post("/account/delete", data={"csrf_token": csrf_token_from(page), "confirm": "y"})
        assert erased == [me.id]
    finally:
        privacy._EXTENSIONS[:] = registered  # the real modules' hooks stay


def test_stripe_failing_during_deletion_keeps_the_account(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin, email="stays@example.org")
    page = client.get("/account/delete").get_data(as_text=True)
    with stripe_failing_once(standin):
        response = client.post(
            "/account/delete", data={"csrf_token": csrf_token_from(page), "confirm": "y"}
        )
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert 'class="notice notice--error" role="alert"' in html
    assert "Your account was not deleted." in html
    me = only_supporter("stays@example.org")
    assert me.active and me.erased_at is None
    assert remote(standin, subscription)["status"] == "active"
    assert client.get("/account").status_code == 200  # still signed in


def report_totals() -> tuple[int, int, int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.coalesce(func.sum(Donation.amount_cents), 0))) or 0,
        db.session.scalar(select(func.coalesce(func.sum(Donation.fee_cents), 0))) or 0,
        db.session.scalar(select(func.count()).select_from(Donation)) or 0,
        db.session.scalar(select(func.count()).select_from(Subscription)) or 0,
    )


def test_delete_my_account_erases_the_person_and_keeps_the_accounts(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    email = "leaving@example.org"
    pay(standin, session_id_from(give(client, amount="300", email=email)))
    subscription = monthly_supporter(client, standin, email=email, cover_fee=True)
    someone_else = make_supporter("staying@example.org")
    make_donation(someone_else, amount_cents=4200)
    me = only_supporter(email)
    customers = {c["id"] for c in standin.store.all("customer") if c.get("email") == email}
    assert customers
    totals = report_totals()

    # The confirmation step says what will happen; without the tick nothing happens.
    page = client.get("/account/delete")
    assert page.status_code == 200
    assert "Your recurring gift stops today" in page.get_data(as_text=True)
    refused = client.post(
        "/account/delete", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))}
    )
    assert refused.status_code == 400 and only_supporter(email).active
    response = client.post(
        "/account/delete",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "confirm": "y"},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/account/deleted"
    assert standin.flush(10)

    # Stripe: no more charges, no personal fields left on any of the person's customers.
    assert remote(standin, subscription)["status"] == "canceled"
    for customer_id in customers:
        customer = standin.store.get("customer", customer_id)
        assert (customer["email"], customer["name"], customer["phone"], customer["address"]) == (
            None,
            None,
            None,
            None,
        )
    # Here: the person is gone, their money stays, pseudonymized, and reports add up as before.
    db.session.expire_all()
    erased = db.session.get(Supporter, me.id)
    assert erased is not None
    assert (erased.email, erased.name, erased.active, erased.password_hash) == (
        None,
        "",
        False,
        None,
    )
    assert erased.erased_at is not None
    assert report_totals() == totals
    assert refreshed(subscription).status is SubscriptionStatus.CANCELED
    mine = db.session.scalars(select(Donation).where(Donation.amount_cents != 4200)).all()
    assert mine and all(d.supporter_id == me.id for d in mine)
    assert db.session.scalar(select(DonationIntent).where(DonationIntent.email == email)) is None
    assert (
        db.session.scalar(select(EmailMessage).where(func.lower(EmailMessage.to_address) == email))
        is None
    )
    assert db.session.scalar(select(SignInToken).where(SignInToken.email == email)) is None
    leftovers = db.session.scalars(
        select(StripeEvent.id).where(func.lower(cast(StripeEvent.payload, Text)).contains(email))
    ).all()
    assert leftovers == []
    # Signed out, and the address can no longer sign in to the old account.
    assert client.get("/account").status_code == 302
    assert only_supporter("staying@example.org").active


def test_the_overviews_past_due_notice_offers_the_card_update(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    subscription = monthly_supporter(client, standin)
    subscription.status = SubscriptionStatus.PAST_DUE
    db.session.commit()
    page = client.get("/account").get_data(as_text=True)
    at = page.index("didn't go through")
    form = page[page.rindex("<form", 0, at) : page.index("</form>", at)]
    assert f'action="/account/gifts/{subscription.id}/card"' in form
    assert "Update your card" in form
    response = post_form(client, "/account", f"/account/gifts/{subscription.id}/card", {})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"{standin.url}/portal/")
