"""A supporter in a real browser: asks for a link, reads it from the mail the SMTP server received,
signs in, sees their history, changes, pauses, resumes and cancels their monthly gift through the
stand-in; and the account pages pass axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from helpers.browser import axe_violations
from helpers.live_server import LiveServer
from helpers.payments import give, pay, session_id_from
from helpers.smtp_capture import SmtpCapture
from membership.extensions import db
from membership.models import Donation, Subscription
from stripe_standin import StandinServer

EMAIL = "browser.supporter@example.org"


def _run_outbox(worker: Flask) -> None:
    # The CLI uses the app context it finds; make it the worker's (MAIL_URL set), not the test's.
    with worker.app_context():
        result = worker.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output


def _sign_in_link(smtp: SmtpCapture) -> str:
    for message in reversed(smtp.messages):
        if "sign-in link" in str(message["Subject"]) and message["To"] == EMAIL:
            text = message.get_body(preferencelist=("plain",)).get_content()
            match = re.search(r"http://\S+/account/sign-in/[A-Za-z0-9_-]+", text)
            assert match, text
            html = message.get_body(preferencelist=("html",)).get_content()
            assert match.group(0) in html
            return match.group(0)
    raise AssertionError("no sign-in mail arrived")


@pytest.fixture
def monthly_supporter(app: Flask, live_server: LiveServer, standin: StandinServer) -> Subscription:
    """Someone who gave $5 a month through the form and the simulated checkout."""
    client = app.test_client()
    with app.app_context():
        pay(standin, session_id_from(give(client, amount="500", frequency="monthly", email=EMAIL)))
        subscription = db.session.scalar(select(Subscription))
        assert subscription is not None
        db.session.expunge(subscription)
        db.session.remove()
    return subscription


def _ask_and_follow_the_link(
    page: Any, site: LiveServer, app_factory: Callable[..., Flask], smtp: SmtpCapture
) -> None:
    page.goto(site.url + "/account/sign-in")
    page.locator("#email").fill(EMAIL.upper())
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.wait_for_url("**/account/sign-in/sent")
    assert "Check your email" in page.content()
    _run_outbox(app_factory(mail_url=smtp.url))
    smtp.wait_for(2)  # the receipt of the first payment, and the sign-in link
    page.goto(_sign_in_link(smtp))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account")


def test_sign_in_by_emailed_link_then_change_pause_resume_and_cancel(
    browser: Any,
    app: Flask,
    live_server: LiveServer,
    standin: StandinServer,
    app_factory: Callable[..., Flask],
    smtp: SmtpCapture,
    monthly_supporter: Subscription,
) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def console(msg: Any) -> None:
        # Only our pages count: the stand-in's portal has no favicon, and Chrome says so.
        if msg.type == "error" and not str(msg.location.get("url", "")).startswith(standin.url):
            errors.append(f"{msg.text} ({msg.location.get('url')})")

    page.on("console", console)

    _ask_and_follow_the_link(page, live_server, app_factory, smtp)
    main = page.locator("main")
    assert "$5 a month" in main.inner_text()
    with app.app_context():
        receipt_number = db.session.scalar(select(Donation.receipt_number))
    assert receipt_number and receipt_number in main.inner_text()
    page.get_by_role("link", name=receipt_number).click()
    page.wait_for_url(f"**/account/receipts/{receipt_number}")
    assert "No goods or services" in page.content()
    page.go_back()

    # Change the amount: Stripe first, the page waits for the webhook.
    page.get_by_role("link", name=re.compile("Manage this gift")).click()
    page.get_by_label("Amount, in US dollars").fill("8")
    page.get_by_role("button", name="Change my gift").click()
    page.locator("main .lead").get_by_text("$8 a month").wait_for(timeout=15000)

    # Pause for two months, then resume.
    page.get_by_label("Two months").check()
    page.get_by_role("button", name="Pause my gift").click()
    page.get_by_text("Paused until").wait_for(timeout=15000)
    page.get_by_role("button", name="Resume my gift").click()
    page.get_by_role("heading", name="Take a break").wait_for(timeout=15000)

    # Update the card on Stripe's (simulated) page, then come back.
    gift_url = page.url
    page.get_by_role("button", name="Update my card").click()
    page.wait_for_url(f"{standin.url}/portal/**")
    page.goto(gift_url)

    # Cancel: the lower-amount offer comes first.
    page.get_by_role("link", name="Cancel my recurring gift").click()
    page.get_by_role("heading", name="Lower my amount instead").wait_for()
    page.get_by_role("button", name="No thanks, cancel my gift").click()
    page.get_by_text("No further payments will be taken").wait_for(timeout=15000)
    assert page.get_by_role("button", name="Keep my gift").is_visible()

    with app.app_context():
        db.session.expire_all()
        row = db.session.get(Subscription, monthly_supporter.id)
        assert row is not None
        assert (row.amount_cents, row.paused_until, row.cancel_at_period_end) == (800, None, True)
    assert errors == []
    context.close()


ACCOUNT_PAGES = [
    "/account",
    "/account/gifts/{sub}",
    "/account/gifts/{sub}/cancel",
    "/account/receipts/{receipt}",
    "/account/statements/{year}",
    "/account/preferences",
    "/account/delete",
]


def test_account_pages_have_no_serious_accessibility_violations(
    browser: Any,
    app: Flask,
    live_server: LiveServer,
    app_factory: Callable[..., Flask],
    smtp: SmtpCapture,
    monthly_supporter: Subscription,
) -> None:
    # axe is injected as a script tag, which our CSP rightly forbids; the audit bypasses it.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(live_server.url + "/account/sign-in")
    assert axe_violations(page) == []
    page.get_by_text("Sign in with a password instead").click()
    assert axe_violations(page) == []
    _ask_and_follow_the_link(page, live_server, app_factory, smtp)
    with app.app_context():
        donation = db.session.scalar(select(Donation))
        assert donation is not None
        values = {
            "sub": monthly_supporter.id,
            "receipt": donation.receipt_number,
            "year": donation.paid_at.year,
        }
    for path in ACCOUNT_PAGES:
        page.goto(live_server.url + path.format(**values))
        assert page.locator("h1").count() == 1, path
        assert axe_violations(page) == [], path
    context.close()


def test_link_pages_have_no_serious_accessibility_violations(
    browser: Any, app: Flask, live_server: LiveServer
) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(live_server.url + "/account/sign-in")
    page.locator("#email").fill("axe@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.wait_for_url("**/account/sign-in/sent")
    assert axe_violations(page) == []
    page.goto(live_server.url + "/account/sign-in/" + "x" * 43)  # an invalid link: 400 page
    assert axe_violations(page) == []
    context.close()
