"""The upgrade ask's link, as a reader meets it: the email's text part shows the link's words and
address (no Markdown), the link opens a page saying what the button does, and only the button
(a POST with the page's token) creates a Stripe Checkout Session for that monthly gift. Opening
the page (as mail scanners do) creates nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers.clients import csrf_token_from
from helpers.factories import count, make_donation, make_supporter
from helpers.lifecycle import path_of, run_and_deliver, text_of
from helpers.live_server import LiveServer
from helpers.payments import pay, session_id_from
from helpers.smtp_capture import SmtpCapture
from membership.extensions import db
from membership.models import DonationIntent, Frequency, Subscription, Supporter
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")

ASKED = datetime(2026, 5, 4, 8, tzinfo=UTC)
LINK = re.compile(r"Give \$5 a month \((https?://[^\s()]+/lifecycle/go/[A-Za-z0-9_.\-]+)\)")


def _ask(smtp: SmtpCapture) -> str:
    supporter = make_supporter("ada@example.org", name="Ada Lovelace")
    make_donation(supporter, amount_cents=2500, paid_at=ASKED - timedelta(days=30))
    mails = [
        m for m in run_and_deliver(smtp, ASKED) if str(m["Subject"]).startswith("Would you give")
    ]
    assert len(mails) == 1
    return text_of(mails[0])


def test_the_text_part_reads_as_text_with_the_link_s_address(smtp: SmtpCapture) -> None:
    text = _ask(smtp)
    assert "Dear Ada," in text
    assert LINK.search(text), text
    assert "](" not in text and "[Give" not in text


def test_the_link_opens_a_page_and_only_its_button_starts_checkout(
    client: FlaskClient, smtp: SmtpCapture, live_server: LiveServer, standin: StandinServer
) -> None:
    link = LINK.search(_ask(smtp))
    assert link
    followed = client.get(path_of(link.group(1)))
    assert followed.status_code == 303
    page_path = path_of(followed.headers["Location"])
    assert page_path.startswith("/support/monthly/")
    # Opening the page, twice (a mail scanner, then the reader), creates nothing.
    for _ in range(2):
        page = client.get(page_path)
        assert page.status_code == 200
        assert page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert "Give $5 a month" in html and "Continue to payment: $5 a month" in html
    assert html.count(f'method="post" action="{page_path}"') == 1
    assert count(DonationIntent) == 0
    # The button without the page's token is refused, and creates nothing either.
    assert client.post(page_path).status_code == 400
    assert count(DonationIntent) == 0

    started = client.post(page_path, data={"csrf_token": csrf_token_from(html)})
    assert started.status_code == 303
    assert started.headers["Location"].startswith(standin.url)
    intent = db.session.scalars(select(DonationIntent)).one()
    assert (intent.frequency, intent.amount_cents, intent.fee_cents, intent.email) == (
        Frequency.MONTHLY,
        500,
        0,
        "ada@example.org",
    )
    assert intent.checkout_session_id == session_id_from(started)

    pay(standin, session_id_from(started))
    db.session.expire_all()
    supporter = db.session.scalars(
        select(Supporter).where(Supporter.email == "ada@example.org")
    ).one()
    monthly = db.session.scalars(select(Subscription)).one()
    assert (monthly.supporter_id, monthly.intent_id) == (supporter.id, intent.id)
    # Giving monthly now: the page says so, and its button starts nothing more.
    again = client.get(page_path).get_data(as_text=True)
    assert "You already give to" in again and f'action="{page_path}"' not in again
    assert client.post(page_path, data={"csrf_token": csrf_token_from(html)}).status_code == 200
    assert count(DonationIntent) == 1


def test_a_changed_or_foreign_link_is_a_clear_400(client: FlaskClient, smtp: SmtpCapture) -> None:
    link = LINK.search(_ask(smtp))
    assert link
    page_path = path_of(client.get(path_of(link.group(1))).headers["Location"])
    token = page_path.rsplit("/", 1)[1]
    forged = page_path.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    html = client.get(page_path).get_data(as_text=True)
    for path in (forged, "/support/monthly/nonsense"):
        assert client.get(path).status_code == 400
        answer = client.post(path, data={"csrf_token": csrf_token_from(html)})
        assert answer.status_code == 400
    assert count(DonationIntent) == 0
