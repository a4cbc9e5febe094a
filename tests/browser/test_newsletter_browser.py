"""The newsletter in Debian's chromium: the double opt-in a reader goes through, with and without
JavaScript, the link taken from the mail the SMTP server captured; axe on the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from helpers.browser import axe_violations
from helpers.factories import make_article
from helpers.live_server import LiveServer
from helpers.newsletter import (
    confirm_link_in,
    deliver,
    make_staff,
    staff_cookie,
    subscriber,
)
from helpers.smtp_capture import SmtpCapture
from membership.extensions import db
from membership.models import ConsentKind, StaffRole, Subscriber, SubscriberStatus
from membership.services.newsletter import issues as issues_service
from membership.services.newsletter import list_import
from membership.services.newsletter.consent import consent_history

USER_AGENT = "membership-tests (chromium)"


@pytest.mark.parametrize("javascript", [True, False])
def test_double_opt_in_in_a_real_browser(
    browser: Any, app: Flask, live_server: LiveServer, smtp: SmtpCapture, javascript: bool
) -> None:
    with app.app_context():
        make_article(slug="glacier-mission", title="Glacier mission sets out")
        db.session.remove()
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(live_server.url + "/articles/glacier-mission")
    signup = page.get_by_role("region", name="Get stories like this by email")
    signup.get_by_label("Your email address").fill("Reader@Example.org")
    signup.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/newsletter/check-your-inbox")
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"

    with app.app_context():
        assert deliver(smtp).sent == 1
        db.session.remove()
    [mail] = smtp.messages
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    link = confirm_link_in(str(body.get_content()))
    assert link.startswith(live_server.url)

    page.goto(link)
    page.get_by_role("button", name="Confirm my subscription").click()
    page.wait_for_url("**/newsletter/confirmed")
    assert "subscribed" in page.get_by_role("heading", level=1).inner_text()
    with app.app_context():
        reader = subscriber("reader@example.org")
        assert reader.status is SubscriberStatus.CONFIRMED
        history = consent_history(db.session(), reader.id)
        assert [line.kind for line in history] == [ConsentKind.SUBSCRIBE, ConsentKind.CONFIRM]
        assert history[0].source == "article:glacier-mission"
        db.session.remove()
    assert errors == []
    context.close()


def test_a_mistake_in_the_footer_form_lands_on_the_full_page(
    browser: Any, live_server: LiveServer
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/")
    footer = page.get_by_role("contentinfo")
    footer.get_by_label("Your email address").fill("not an address")
    footer.get_by_role("button", name="Subscribe").click()
    page.wait_for_load_state()
    field = page.locator("#newsletter-email")
    assert field.get_attribute("aria-invalid") == "true"
    assert "like name@example.com" in page.locator("#newsletter-email-error").inner_text()
    context.close()


def _seed_staff_pages(app: Flask) -> tuple[Any, int]:
    with app.app_context():
        now = datetime.now(UTC)
        db.session.add_all(
            Subscriber(
                email=f"reader{i}@example.org",
                status=SubscriberStatus.CONFIRMED,
                source="footer:/",
                created_at=now,
                confirmed_at=now,
            )
            for i in range(30)
        )
        db.session.commit()
        list_import.import_subscribers(
            db.session(),
            b"email\nann@example.org\n",
            basis="Signed up on paper at the fair",
            source="import:fair.csv",
        )
        issue = issues_service.save_issue(
            db.session(), subject="Week 48", body_markdown="## Hello\n\nA *short* issue."
        )
        member = make_staff(StaffRole.EDITOR)
        db.session.commit()
        cookie = staff_cookie(app, member, user_agent=USER_AGENT)
        issue_id = issue.id
        db.session.remove()
    return cookie, issue_id


@pytest.mark.parametrize(
    "path",
    [
        "/newsletter",
        "/newsletter/check-your-inbox",
        "/staff/newsletter",
        "/staff/newsletter/import",
        "/staff/newsletter/issues",
        "/staff/newsletter/issues/{issue}",
    ],
)
def test_newsletter_pages_have_no_serious_accessibility_violations(
    browser: Any, app: Flask, live_server: LiveServer, path: str
) -> None:
    cookie, issue_id = _seed_staff_pages(app)
    # axe is injected as a script tag, which our CSP rightly forbids; the audit bypasses it.
    context = browser.new_context(bypass_csp=True, user_agent=USER_AGENT)
    context.add_cookies([{**cookie, "url": live_server.url}])
    page = context.new_page()
    response = page.goto(live_server.url + path.format(issue=issue_id))
    assert response is not None and response.status == 200
    assert "/account/sign-in" not in page.url
    assert axe_violations(page) == []
    context.close()


def test_staff_sees_the_list_without_javascript(
    browser: Any, app: Flask, live_server: LiveServer
) -> None:
    cookie, _ = _seed_staff_pages(app)
    context = browser.new_context(java_script_enabled=False, user_agent=USER_AGENT)
    context.add_cookies([{**cookie, "url": live_server.url}])
    page = context.new_page()
    page.goto(live_server.url + "/staff/newsletter")
    page.get_by_label("Search addresses").fill("ANN@")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**q=ANN**")
    assert "1 address match" in page.locator("main").inner_text()
    page.get_by_role("link", name="ann@example.org").click()
    assert "Signed up on paper at the fair" in page.locator("main").inner_text()
    context.close()
