"""A reader gives $1 once and $5 monthly in a real browser, offline, through the simulated checkout."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from helpers.factories import make_article, make_variant
from helpers.live_server import LiveServer
from membership.extensions import db
from membership.models import Donation, DonationKind, Subscription
from stripe_standin import StandinServer


@pytest.fixture
def site(app: Flask, live_server: LiveServer) -> LiveServer:
    with app.app_context():
        make_variant(
            "control",
            headline="Readers fund every word here",
            amounts={"once": [100, 500, 1000], "monthly": [300, 500, 1000]},
        )
        make_article(slug="drone-vaccines", title="Drones carry vaccines upriver")
        db.session.remove()
    return live_server


def test_one_off_dollar_with_a_declined_card_first(
    browser: Any, site: LiveServer, standin: StandinServer, app: Flask
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url + "/articles/drone-vaccines")
    page.get_by_role("button", name="Not now").wait_for()
    page.get_by_role("link", name="$1", exact=True).click()
    page.wait_for_url("**/support?**")
    assert page.get_by_label("$1", exact=True).is_checked()
    page.get_by_label("Email for your receipt").fill("dollar@example.org")
    page.get_by_role("button", name="Continue to secure payment").click()
    page.wait_for_url(f"{standin.url}/checkout/**")
    assert "Simulated checkout: no real money" in page.content()
    page.get_by_label("Visa ending 0002 (declined)").check()
    page.get_by_role("button", name="Pay").click()
    assert "Your card was declined" in page.content()
    page.get_by_label("Visa ending 4242 (succeeds)").check()
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/support/thanks**")
    page.get_by_text("has arrived").wait_for(timeout=15000)
    assert "$1" in page.locator("main").inner_text()
    with app.app_context():
        donation = db.session.scalar(select(Donation))
        assert donation is not None
        assert (donation.amount_cents, donation.kind) == (100, DonationKind.ONE_OFF)
        assert donation.receipt_number in page.locator("main").inner_text()
    context.close()


def test_five_dollars_monthly_with_the_fee_covered(
    browser: Any, site: LiveServer, standin: StandinServer, app: Flask
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url + "/articles/drone-vaccines")
    page.get_by_role("button", name="Give monthly").click()
    page.get_by_role("link", name="$5 a month").click()
    page.wait_for_url("**/support?**")
    assert page.get_by_label("Monthly").is_checked()
    page.get_by_label("Add the card fee").check()
    total = page.locator("[data-support-total]").inner_text()
    assert "$5.46 every month" in total
    page.get_by_role("button", name="Continue to secure payment").click()
    page.wait_for_url(f"{standin.url}/checkout/**")
    page.get_by_label("Email (required)").fill("monthly@example.org")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/support/thanks**")
    page.get_by_text("has started").wait_for(timeout=15000)
    assert "$5 a month" in page.locator("main").inner_text()
    with app.app_context():
        subscription = db.session.scalar(select(Subscription))
        assert subscription is not None
        assert (subscription.amount_cents, subscription.fee_cents) == (546, 46)
        donation = db.session.scalar(select(Donation))
        assert donation is not None and (donation.amount_cents, donation.fee_cents) == (500, 46)
    context.close()


def test_cancel_on_the_checkout_page_comes_back_to_a_filled_form(
    browser: Any, site: LiveServer, standin: StandinServer
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url + "/support?amount=1000&frequency=once")
    page.get_by_role("button", name="Continue to secure payment").click()
    page.wait_for_url(f"{standin.url}/checkout/**")
    page.get_by_role("link", name="Cancel and go back").click()
    page.wait_for_url("**/support/cancelled")
    assert "No money was taken" in page.content()
    assert page.get_by_label("$10", exact=True).is_checked()
    context.close()
