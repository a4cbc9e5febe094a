"""The supporter's pages: lifetime total, gifts, receipts, yearly statements, preferences; the
thank-you banner; renewal reminders; and every account form against hostile input."""

from __future__ import annotations

import csv
import io
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask, current_app
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from helpers.accounts import sign_in
from helpers.clients import csrf_token_from
from helpers.factories import make_article, make_donation, make_supporter, make_variant
from helpers.payments import admin
from membership.extensions import db
from membership.models import (
    BillingInterval,
    DonationKind,
    DonationStatus,
    EmailMessage,
    Subscription,
    SubscriptionStatus,
    Supporter,
    utcnow,
)
from membership.payments.gateway import CheckoutRequest
from membership.services.checkout import processing_fee
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


def make_subscription(
    supporter: Supporter,
    *,
    gift_cents: int = 500,
    fee_cents: int = 0,
    interval: BillingInterval = BillingInterval.MONTH,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    period_end: datetime | None = None,
) -> Subscription:
    subscription = Subscription(
        stripe_subscription_id=f"sub_factory_{supporter.id}_{gift_cents}_{interval.value}",
        supporter_id=supporter.id,
        amount_cents=gift_cents + fee_cents,
        fee_cents=fee_cents,
        currency="usd",
        interval=interval,
        status=status,
        current_period_end=period_end or utcnow() + timedelta(days=20),
    )
    db.session.add(subscription)
    db.session.commit()
    return subscription


# History and the lifetime total


def test_gifts_newest_first_with_status_and_a_lifetime_total_net_of_refunds(
    client: FlaskClient,
) -> None:
    me = make_supporter("history@example.org")
    make_donation(me, amount_cents=1000, paid_at=datetime(2025, 3, 1, 12, tzinfo=UTC))
    make_donation(me, amount_cents=500, fee_cents=46, paid_at=datetime(2026, 2, 1, 12, tzinfo=UTC))
    make_donation(
        me,
        amount_cents=2000,
        status=DonationStatus.PARTIALLY_REFUNDED,
        refunded_cents=500,
        paid_at=datetime(2026, 5, 1, 12, tzinfo=UTC),
    )
    make_donation(
        me,
        amount_cents=300,
        status=DonationStatus.REFUNDED,
        refunded_cents=300,
        paid_at=datetime(2026, 6, 1, 12, tzinfo=UTC),
    )
    make_donation(
        me,
        amount_cents=700,
        status=DonationStatus.DISPUTED,
        paid_at=datetime(2026, 7, 1, 12, tzinfo=UTC),
    )
    make_donation(make_supporter("someone.else@example.org"), amount_cents=99900)
    sign_in(client, "history@example.org")
    page = client.get("/account").get_data(as_text=True)
    # 1000 + 546 + (2000 - 500) + 0 (refunded) + 0 (disputed) = 3046
    assert "given <strong>$30.46</strong> to The Observatory" in page
    assert "$999" not in page
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    order = [
        rows.index(date)
        for date in ("1 July 2026", "1 June 2026", "1 May 2026", "1 February 2026", "1 March 2025")
    ]
    assert order == sorted(order)
    for label in ("Disputed", "Refunded", "Partly refunded ($5 back)", "Paid"):
        assert label in rows
    assert "2026 statement" in page and "2025 statement" in page


def test_a_receipt_page_for_each_gift_and_404_for_anyone_elses(
    app: Flask, client: FlaskClient
) -> None:
    me = make_supporter("receipts@example.org", name="Ada Reader")
    mine = make_donation(me, amount_cents=500, fee_cents=46)
    theirs = make_donation(make_supporter("other@example.org"), amount_cents=800)
    sign_in(client, "receipts@example.org")
    page = client.get(f"/account/receipts/{mine.receipt_number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert mine.receipt_number in html and "Ada Reader" in html
    assert "$5" in html and "$0.46" in html and "$5.46" in html
    assert "No goods or services" in html
    assert page.headers["Cache-Control"] == "private, no-store"
    other = client.get(f"/account/receipts/{theirs.receipt_number}")
    missing = client.get("/account/receipts/OBS-2026-999999")
    assert other.status_code == missing.status_code == 404
    # The same page either way, apart from the address the reader asked for (the footer's
    # newsletter form records the page it was sent from).
    assert other.get_data(as_text=True).replace(theirs.receipt_number or "", "N") == (
        missing.get_data(as_text=True).replace("OBS-2026-999999", "N")
    )
    assert client.get("/account/receipts/" + "x" * 300).status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/account/receipts/{mine.receipt_number}").status_code == 302


def test_yearly_statements_follow_the_publications_time_zone(
    app_factory: Callable[..., Flask],
) -> None:
    zoned = app_factory(timezone="America/New_York")
    client = zoned.test_client()
    me = make_supporter("tax@example.org")
    # 03:00 UTC on 1 January 2027 is still 31 December 2026 in New York.
    late = make_donation(me, amount_cents=1000, paid_at=datetime(2027, 1, 1, 3, tzinfo=UTC))
    early = make_donation(
        me, amount_cents=2000, fee_cents=88, paid_at=datetime(2026, 1, 1, 6, tzinfo=UTC)
    )
    before = make_donation(me, amount_cents=400, paid_at=datetime(2026, 1, 1, 4, tzinfo=UTC))
    make_donation(make_supporter("not.me@example.org"), amount_cents=5000, paid_at=early.paid_at)
    with zoned.app_context(), time_machine.travel(datetime(2027, 2, 1, tzinfo=UTC), tick=False):
        sign_in(client, "tax@example.org")
        html = client.get("/account/statements/2026").get_data(as_text=True)
        response = client.get("/account/statements/2026.csv")
        assert client.get("/account/statements/1999").status_code == 404
        assert client.get("/account/statements/2029").status_code == 404
    assert late.receipt_number in html and early.receipt_number in html
    assert before.receipt_number not in html  # 23:00 on 31 December 2025 in New York
    assert "$30.88" in html  # 1000 + 2000 + 88
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["receipt_number"] for r in rows[:-1]] == [early.receipt_number, late.receipt_number]
    assert rows[0]["date"] == "2026-01-01" and rows[1]["date"] == "2026-12-31"
    assert (rows[0]["gift"], rows[0]["fee_covered"], rows[0]["counted"]) == (
        "20.00",
        "0.88",
        "20.88",
    )
    assert rows[-1]["date"] == "total" and rows[-1]["counted"] == "30.88"


def test_recurring_gifts_show_amount_interval_and_next_payment(client: FlaskClient) -> None:
    me = make_supporter("recurring@example.org")
    fee = processing_fee(500, 2.9, 30)
    make_subscription(
        me, gift_cents=500, fee_cents=fee, period_end=datetime(2026, 12, 15, 12, tzinfo=UTC)
    )
    make_subscription(
        me,
        gift_cents=6000,
        interval=BillingInterval.YEAR,
        period_end=datetime(2027, 3, 1, 12, tzinfo=UTC),
    )
    make_subscription(me, gift_cents=900, status=SubscriptionStatus.CANCELED)
    sign_in(client, "recurring@example.org")
    page = client.get("/account").get_data(as_text=True)
    assert "$5 a month" in page and f"plus $0.{fee}" in page
    assert "Next payment: 15 December 2026" in page
    assert "$60 a year" in page and "Next payment: 1 March 2027" in page
    assert "$9 a month" not in page  # ended gifts are history, not recurring support


def test_email_preferences_are_saved_and_receipts_follow_them(client: FlaskClient) -> None:
    from membership.services.notifications import queue_receipt

    sign_in(client, "prefs@example.org")
    page = client.get("/account/preferences").get_data(as_text=True)
    assert "NEWSLETTER PREFERENCES" not in page  # the marker is a template comment
    assert 'checked id="receipts"' in page and 'checked id="renewal_reminders"' in page
    response = client.post(
        "/account/preferences",
        data={"csrf_token": csrf_token_from(page), "renewal_reminders": "y"},
    )
    assert response.status_code == 303
    me = db.session.scalar(select(Supporter).where(Supporter.email == "prefs@example.org"))
    assert me is not None and not me.receipt_emails and me.renewal_reminders
    donation = make_donation(me)
    queue_receipt(db.session(), donation, current_app.config["MEMBERSHIP"])
    db.session.commit()
    assert db.session.scalar(select(EmailMessage).where(EmailMessage.kind == "receipt")) is None


# The banner


def _banner(client: FlaskClient) -> dict[str, object]:
    response = client.get("/api/banner?article=story")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    data: dict[str, object] = response.get_json()
    return data


def test_current_supporters_get_a_thank_you_instead_of_the_appeal(
    app: Flask, client: FlaskClient
) -> None:
    make_variant()
    make_article(slug="story")
    recent = make_supporter("recent@example.org")
    make_donation(recent, paid_at=utcnow() - timedelta(days=59))
    lapsed = make_supporter("lapsed@example.org")
    make_donation(lapsed, paid_at=utcnow() - timedelta(days=61))
    monthly = make_supporter("monthly@example.org")
    make_subscription(monthly)
    make_donation(monthly, paid_at=utcnow() - timedelta(days=400), kind=DonationKind.RECURRING)

    assert _banner(app.test_client())["show"] is True
    for address, thanked in [
        ("recent@example.org", True),
        ("lapsed@example.org", False),
        ("monthly@example.org", True),
        ("never@example.org", False),
    ]:
        reader = app.test_client()
        sign_in(reader, address)
        answer = _banner(reader)
        assert answer["show"] is (not thanked), address
        if thanked:
            thanks = answer["thanks"]
            assert isinstance(thanks, dict) and thanks["headline"] and thanks["body"]
        else:
            assert "thanks" not in answer


def test_the_quiet_period_is_configurable(app_factory: Callable[..., Flask]) -> None:
    quiet = app_factory(supporter_banner_quiet_days=7)
    make_variant()
    make_donation(make_supporter("week@example.org"), paid_at=utcnow() - timedelta(days=8))
    reader = quiet.test_client()
    with quiet.app_context():
        sign_in(reader, "week@example.org")
    assert reader.get("/api/banner").get_json()["show"] is True


def test_the_article_page_is_the_same_cacheable_page_for_supporters(
    app: Flask, client: FlaskClient
) -> None:
    make_variant()
    make_article(slug="cached-story", title="A cached story")
    anonymous = app.test_client().get("/articles/cached-story")
    supporter = make_supporter("cached@example.org")
    make_donation(supporter, paid_at=utcnow())
    sign_in(client, "cached@example.org")
    signed_in = client.get("/articles/cached-story")
    assert signed_in.status_code == anonymous.status_code == 200
    assert signed_in.get_data() == anonymous.get_data()
    assert signed_in.headers["ETag"] == anonymous.headers["ETag"]
    assert "Set-Cookie" not in signed_in.headers
    assert "Cookie" not in signed_in.headers.get("Vary", "")


# Renewal reminders


def test_reminders_go_once_per_renewal_to_annual_supporters_who_want_them(
    app: Flask,
) -> None:
    now = utcnow()
    soon = make_supporter("soon@example.org")
    make_subscription(
        soon, gift_cents=6000, interval=BillingInterval.YEAR, period_end=now + timedelta(days=10)
    )
    later = make_supporter("later@example.org")
    make_subscription(
        later, gift_cents=6000, interval=BillingInterval.YEAR, period_end=now + timedelta(days=40)
    )
    monthly = make_supporter("monthly.soon@example.org")
    make_subscription(monthly, period_end=now + timedelta(days=5))
    ending = make_supporter("ending@example.org")
    sub = make_subscription(
        ending, gift_cents=6000, interval=BillingInterval.YEAR, period_end=now + timedelta(days=3)
    )
    sub.cancel_at_period_end = True
    no_thanks = make_supporter("no.reminders@example.org")
    no_thanks.renewal_reminders = False
    make_subscription(
        no_thanks,
        gift_cents=6000,
        interval=BillingInterval.YEAR,
        period_end=now + timedelta(days=3),
    )
    db.session.commit()

    runner = app.test_cli_runner()
    first = runner.invoke(args=["reminders", "send"])
    second = runner.invoke(args=["reminders", "send"])
    assert first.exit_code == second.exit_code == 0, first.output
    assert "1 renewal reminder(s) and 0 appeal reminder(s) queued" in first.output
    assert "0 renewal reminder(s) and 0 appeal reminder(s) queued" in second.output
    db.session.expire_all()
    reminders = db.session.scalars(
        select(EmailMessage).where(EmailMessage.kind == "renewal_reminder")
    ).all()
    assert [m.to_address for m in reminders] == ["soon@example.org"]
    assert "$60" in reminders[0].text_body and "/account" in reminders[0].text_body


def test_purging_blanks_expired_links_in_sent_mail(app: Flask, client: FlaskClient) -> None:
    from helpers.accounts import ask_for_link
    from membership.services.outbox import mark_sent

    ask_for_link(client, "purge@example.org")
    message = db.session.scalar(select(EmailMessage))
    assert message is not None
    mark_sent(db.session(), message, now=utcnow())
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=2), tick=False):
        result = app.test_cli_runner().invoke(args=["accounts", "purge-links"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    message = db.session.scalar(select(EmailMessage))
    assert message is not None and "/account/sign-in/" not in message.text_body


# Every account form against hostile input: 200, 303 or 400, never a 500


_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(
    ["", "0", "-1", "1.005", "1e3", "NaN", "$5", "1,000.00", "' OR 1=1 --", "y", "1", "4",
     "<script>alert(1)</script>", "\u202e", "\x00", "9" * 30, " 5 ", "monthly", "annual",
     "//evil.example", "https://evil.example", "/account"]
)  # fmt: skip

_FUZZ: dict[int, tuple[Flask, FlaskClient, int]] = {}
_TOKENS = st.text(alphabet=string.ascii_letters + string.digits + "-_.~", max_size=120)


def _fuzz_client(
    app_factory: Callable[..., Flask], standin: StandinServer
) -> tuple[Flask, FlaskClient, int]:
    """One app and one signed-in supporter with a real (stand-in) monthly gift per test run."""
    key = id(app_factory)
    if key not in _FUZZ:
        _FUZZ.clear()
        fuzz_app = app_factory(ratelimit_enabled=False)
        client = fuzz_app.test_client()
        with fuzz_app.app_context():
            sign_in(client, "fuzz@example.org")
            me = db.session.scalar(select(Supporter).where(Supporter.email == "fuzz@example.org"))
            assert me is not None
            subscription = make_subscription(me)
            subscription.stripe_subscription_id = _stripe_subscription(fuzz_app, standin)
            db.session.commit()
            _FUZZ[key] = (fuzz_app, client, subscription.id)
    return _FUZZ[key]


def _stripe_subscription(fuzz_app: Flask, standin: StandinServer) -> str:
    gateway = fuzz_app.extensions["stripe_gateway"]
    checkout = gateway.create_checkout_session(
        CheckoutRequest(
            idempotency_key="fuzz",
            mode="subscription",
            amount_cents=500,
            currency="usd",
            product_name="Monthly support",
            success_url="http://127.0.0.1/ok",
            cancel_url="http://127.0.0.1/no",
            metadata={},
            interval="month",
            customer_email="fuzz@example.org",
        )
    )
    admin(standin, f"checkout/{checkout.id}/pay", {"card": "success"})
    return str(gateway.retrieve_checkout_session(checkout.id).subscription_id)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(email=_TEXT | st.emails(), password=_TEXT, next_path=_TEXT, token=_TOKENS)
def test_sign_in_forms_answer_200_303_or_400(
    app_factory: Callable[..., Flask],
    standin: StandinServer,
    email: str,
    password: str,
    next_path: str,
    token: str,
) -> None:
    fuzz_app, _signed_in, _ = _fuzz_client(app_factory, standin)
    client = fuzz_app.test_client()
    page = client.get("/account/sign-in", query_string={"next": next_path})
    assert page.status_code == 200
    csrf = csrf_token_from(page.get_data(as_text=True))
    with fuzz_app.app_context():
        link = client.post(
            "/account/sign-in", data={"csrf_token": csrf, "email": email, "next": next_path}
        )
        # 429: hypothesis repeats an address while it shrinks, and one address gets only so
        # many links an hour and so many wrong passwords (both counted in the database, so they
        # hold with the rate limiter off): a clear answer, never a 500.
        assert link.status_code in (303, 400, 429)
        if link.status_code == 303:
            assert link.headers["Location"] == "/account/sign-in/sent"
        pw = client.post(
            "/account/sign-in/password",
            data={"csrf_token": csrf, "email": email, "password": password, "next": next_path},
        )
        assert pw.status_code in (303, 400, 429)
        if token not in ("", ".", "..", "sent"):
            assert client.get(f"/account/sign-in/{token}").status_code == 400
            used = client.post(f"/account/sign-in/{token}", data={"csrf_token": csrf})
            assert used.status_code == 400


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=_TEXT,
    frequency=_TEXT,
    cover=st.booleans(),
    months=_TEXT,
    receipts=_TEXT,
    password=_TEXT,
    confirm=_TEXT,
)
def test_account_forms_answer_200_303_or_400(
    app_factory: Callable[..., Flask],
    standin: StandinServer,
    amount: str,
    frequency: str,
    cover: bool,
    months: str,
    receipts: str,
    password: str,
    confirm: str,
) -> None:
    _fuzz_app, client, subscription_id = _fuzz_client(app_factory, standin)
    path = f"/account/gifts/{subscription_id}"
    page = client.get(path)
    assert page.status_code == 200
    csrf = csrf_token_from(page.get_data(as_text=True))
    change = {"csrf_token": csrf, "amount": amount, "frequency": frequency}
    if cover:
        change["cover_fee"] = "y"
    for response in (
        client.post(f"{path}/change", data=change),
        client.post(f"{path}/pause", data={"csrf_token": csrf, "months": months}),
        client.post("/account/preferences", data={"csrf_token": csrf, "receipts": receipts}),
        client.post(
            "/account/password",
            data={"csrf_token": csrf, "password": password, "confirm": confirm},
        ),
        client.post("/account/delete", data={"csrf_token": csrf, "confirm": ""}),
    ):
        assert response.status_code in (200, 303, 400)
    assert client.get("/account").status_code == 200  # still signed in, still alive
