"""A staff session in a real browser: Debian's chromium through Playwright against a live server
with a year of generated history; charts render under the strict CSP; axe finds nothing serious."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from helpers.browser import axe_violations
from helpers.live_server import LiveServer
from helpers.staff import make_staff, staff_session_cookie
from membership.extensions import db
from membership.models import StaffRole
from membership.services.demo import seed_demo


@pytest.fixture
def staff_site(app: Flask, live_server: LiveServer) -> tuple[LiveServer, Any]:
    with app.app_context():
        seed_demo(db.session(), now=datetime.now(UTC))
        db.session.commit()
        # Only the id travels: the cookie names the account, the session is gone.
        admin = SimpleNamespace(id=make_staff(StaffRole.ADMIN, email="chief@newsroom.example").id)
        db.session.remove()
    return live_server, admin


def signed_in_context(browser: Any, app: Flask, admin: Any, url: str, **options: Any) -> Any:
    context = browser.new_context(**options)
    user_agent = context.new_page().evaluate("navigator.userAgent")
    cookie = staff_session_cookie(app, admin, user_agent)
    context.add_cookies([{**cookie, "url": url}])
    return context


def test_staff_member_answers_the_questions_in_a_browser(
    browser: Any, app: Flask, staff_site: tuple[LiveServer, Any]
) -> None:
    server, admin = staff_site
    context = signed_in_context(browser, app, admin, server.url)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(server.url + "/staff")
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    # How much did we raise this month, and are we keeping our monthly supporters?
    assert page.locator("[data-figure=gross]").inner_text().startswith("$")
    assert page.locator("[data-figure=mrr]").inner_text().startswith("$")
    chart = page.get_by_role("img", name="Monthly recurring revenue at the end of each month")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.locator("#mrr-trend circle").count() == 12
    # From whom, and from which articles: the reports, reached from the staff navigation.
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Reports").click()
    page.wait_for_url("**/staff/reports")
    assert page.locator("#money-chart rect[height]").count() > 12
    assert page.get_by_role("img", name="Gross and net by period").bounding_box() is not None
    assert page.locator("#articles-table tbody tr").count() >= 5
    assert page.locator("#cohort-table tbody tr").count() >= 12
    page.get_by_label("Group by").select_option("week")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**group=week**")
    assert page.locator("#money-table tbody tr").count() > 40
    with page.expect_download() as download:
        page.get_by_role("button", name="Download money by period (CSV)").click()
    assert download.value.suggested_filename.startswith("money-")
    page.get_by_role("link", name="Supporters").click()
    page.get_by_label("Email or name").fill("reader1")
    page.get_by_role("button", name="Search").click()
    page.locator("#supporters-table tbody a").first.click()
    assert page.get_by_role("heading", name="Gifts", exact=True).is_visible()
    # Strict CSP everywhere and nothing refused: the charts need no inline style or script.
    assert problems == []
    context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/staff",
        "/staff/reports",
        "/staff/banner",
        "/staff/articles",
        "/staff/audit",
        "/staff/lifecycle",
        "/staff/lifecycle/upgrade_ask",
    ],
)
def test_staff_pages_have_no_serious_accessibility_violations(
    browser: Any, app: Flask, staff_site: tuple[LiveServer, Any], path: str
) -> None:
    server, admin = staff_site
    # axe is injected as a script tag, which our CSP rightly forbids; the audit bypasses it.
    context = signed_in_context(browser, app, admin, server.url, bypass_csp=True)
    page = context.new_page()
    page.goto(server.url + path)
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("navigation", name="Staff").is_visible()
    assert axe_violations(page) == []
    context.close()
