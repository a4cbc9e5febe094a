"""The appeal around a gift: recent donors are thanked instead of asked, the form follows the
appeal the reader clicked, the thank-you page confirms quickly and leads somewhere, and a
campaign's progress bar moves with confirmed gifts only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from helpers.clients import csrf_token_from
from helpers.factories import make_article, make_variant
from helpers.live_server import LiveServer
from helpers.payments import give, pay, session_id_from
from membership.config import Config
from membership.extensions import db
from membership.models import Campaign, DonationIntent, Frequency, utcnow
from membership.services.campaigns import CampaignChange, save_campaign
from stripe_standin import StandinServer

pytestmark = pytest.mark.usefixtures("app_context")


def presets_on(html: str) -> list[int]:
    return [int(v) for v in re.findall(r'name="amount_choice" value="(\d+)"', html)]


def test_a_reader_who_just_gave_is_thanked_not_asked_again(
    app: Flask, client: FlaskClient, live_server: LiveServer, standin: StandinServer, config: Config
) -> None:
    make_variant()
    make_article(slug="story")
    assert client.get("/api/banner?article=story").get_json()["show"] is True
    article_before = client.get("/articles/story").get_data()
    pay(standin, session_id_from(give(client, amount="100", source="story")))
    assert "has arrived" in client.get("/support/thanks").get_data(as_text=True)
    # The cookie says "gave once" and nothing about who, how much or when beyond its signature.
    cookie = client.get_cookie("obs_gave")
    assert cookie is not None and cookie.http_only
    payload = URLSafeTimedSerializer(config.secret_key, salt="recent-donor").loads(cookie.value)
    assert payload == "once"
    answer = client.get("/api/banner?article=story").get_json()
    assert (answer["show"], answer["reason"]) == (False, "recent_donor")
    assert answer["thanks"]["headline"] == "Thank you for supporting us"
    assert answer["thanks"]["upgrade"]["href"] == "/support?frequency=monthly"
    # The article itself is the same page for the donor and for anyone else (caches keep working).
    assert client.get("/articles/story").get_data() == article_before
    assert app.test_client().get("/articles/story").get_data() == article_before
    # After SUPPORTER_BANNER_QUIET_DAYS the appeal comes back.
    later = utcnow() + timedelta(days=config.supporter_banner_quiet_days, hours=1)
    with time_machine.travel(later, tick=False):
        assert client.get("/api/banner?article=story").get_json()["show"] is True


def test_a_forged_recent_donor_cookie_is_ignored(client: FlaskClient) -> None:
    make_variant()
    client.set_cookie("obs_gave", "once")
    assert client.get("/api/banner").get_json()["show"] is True


def test_the_form_offers_the_clicked_variants_presets_per_frequency(
    client: FlaskClient,
) -> None:
    make_variant("control", amounts={"once": [300, 500, 1000], "monthly": [300, 500, 1000]})
    chosen = make_variant(
        "small-monthly",
        body="Give $4 a month.",
        amounts={"once": [1000, 2500], "monthly": [400, 800, 1500]},
        default_frequency=Frequency.MONTHLY,
    )
    page = client.get(f"/support?amount=800&frequency=monthly&variant={chosen.id}")
    html = page.get_data(as_text=True)
    assert presets_on(html) == [400, 800, 1500]
    assert ">Amount each month</legend>" in html
    assert "&#34;monthly&#34;: [400, 800, 1500]" in html  # for the script's switch
    # Without JavaScript, "Show amounts" after choosing once brings the one-off presets.
    switched = client.post(
        "/support",
        data={
            "csrf_token": csrf_token_from(html),
            "action": "amounts",
            "frequency": "once",
            "amount_choice": "other",
            "variant": str(chosen.id),
        },
    )
    assert switched.status_code == 200
    once = switched.get_data(as_text=True)
    assert presets_on(once) == [1000, 2500]
    assert ">Amount</legend>" in once
    assert db.session.scalar(select(DonationIntent)) is None


def test_editing_a_variants_presets_changes_what_the_form_offers(client: FlaskClient) -> None:
    variant = make_variant("v", amounts={"once": [100, 500]})
    assert presets_on(client.get(f"/support?variant={variant.id}").get_data(as_text=True)) == [
        100,
        500,
    ]
    make_variant("v", amounts={"once": [200, 700, 1200]})
    assert presets_on(client.get(f"/support?variant={variant.id}").get_data(as_text=True)) == [
        200,
        700,
        1200,
    ]


def test_the_thank_you_page_checks_a_status_endpoint_and_leads_somewhere(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    make_article(slug="harbour", title="Harbour reopens")
    assert client.get("/support/thanks/status").get_json() == {"state": "unknown"}
    response = give(client, amount="300", source="harbour", email="giver@example.org")
    status = client.get("/support/thanks/status")
    assert status.get_json() == {"state": "processing"}
    assert status.headers["Cache-Control"] == "private, no-store"
    waiting = client.get("/support/thanks").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in waiting
    assert 'data-thanks-status="/support/thanks/status"' in waiting
    assert "js/thanks.js" in waiting
    pay(standin, session_id_from(response))
    assert client.get("/support/thanks/status").get_json() == {"state": "confirmed"}
    page = client.get("/support/thanks").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "js/thanks.js" not in page
    assert 'href="/articles/harbour">Back to “Harbour reopens”</a>' in page
    assert "https://www.facebook.com/sharer/sharer.php?u=http%3A//127.0.0.1" in page
    assert "<script" not in page.split("</main>")[0]
    # One newsletter form, filled in with the donor's address (still double opt-in).
    assert page.count('action="/newsletter"') == 1
    assert (
        'id="thanks-newsletter-email" name="email" autocomplete="email" maxlength="254" value="giver@example.org"'
        in page
    )
    assert 'name="email" value="giver@example.org"' in page  # "create your account"
    assert 'action="/support/thanks/monthly"' in page
    monthly = client.post("/support/thanks/monthly", data={"csrf_token": csrf_token_from(page)})
    assert monthly.status_code == 303
    assert monthly.headers["Location"].startswith(f"{standin.url}/checkout/")
    intents = db.session.scalars(select(DonationIntent).order_by(DonationIntent.id)).all()
    assert [(i.amount_cents, i.frequency) for i in intents] == [
        (300, Frequency.ONCE),
        (300, Frequency.MONTHLY),
    ]
    assert intents[1].email == "giver@example.org"


def test_make_it_monthly_needs_a_confirmed_one_off_gift(client: FlaskClient) -> None:
    page = client.get("/support").get_data(as_text=True)
    response = client.post("/support/thanks/monthly", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/support?frequency=monthly"
    assert client.post("/support/thanks/monthly").status_code == 400


def make_campaign(**changes: object) -> Campaign:
    now = utcnow()
    values: dict[str, object] = {
        "slug": "spring-drive",
        "name": "Spring drive",
        "headline": "Help us reach $500 this spring",
        "body": "Every gift from $1 counts toward our goal.",
        "amounts": {"once": [100, 500, 1000], "monthly": [300, 500]},
        "default_frequency": Frequency.ONCE,
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=13),
        "goal_cents": 50000,
    }
    values.update(changes)
    campaign = save_campaign(db.session(), CampaignChange(**values))  # type: ignore[arg-type]
    db.session.commit()
    return campaign


def test_a_campaigns_page_shows_progress_from_confirmed_gifts_only(
    client: FlaskClient, live_server: LiveServer, standin: StandinServer
) -> None:
    make_variant()
    make_campaign()
    page = client.get("/support/spring-drive").get_data(as_text=True)
    assert "<h1>Help us reach $500 this spring</h1>" in page
    assert '<progress class="campaign-progress__bar" max="100" value="0"' in page
    assert "$0</strong> raised of our $500 goal" in page
    assert 'name="campaign" type="hidden" value="spring-drive"' in page
    response = give(client, amount="10000", extra={"campaign": "spring-drive"})
    # Started but not paid: the bar does not move.
    assert 'value="0"' in client.get("/support/spring-drive").get_data(as_text=True)
    pay(standin, session_id_from(response))
    moved = client.get("/support/spring-drive").get_data(as_text=True)
    assert "$100</strong> raised of our $500 goal" in moved
    assert '<progress class="campaign-progress__bar" max="100" value="20"' in moved
    assert client.get("/support/no-such-drive").status_code == 404


def test_while_a_campaign_runs_the_appeal_is_the_campaigns(client: FlaskClient) -> None:
    make_variant(headline="The usual appeal")
    make_article(slug="story")
    assert "The usual appeal" in client.get("/articles/story").get_data(as_text=True)
    make_campaign()
    article = client.get("/articles/story").get_data(as_text=True)
    assert "Help us reach $500 this spring" in article
    assert 'href="/support/spring-drive?amount=100' in article
    answer = client.get("/api/banner").get_json()["variant"]
    assert (answer["headline"], answer["support_url"]) == (
        "Help us reach $500 this spring",
        "/support/spring-drive",
    )
