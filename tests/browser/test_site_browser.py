"""Reader pages in a real browser: Debian's chromium through Playwright, against a real server."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from helpers.browser import axe_violations
from helpers.factories import make_article, make_variant
from helpers.live_server import LiveServer
from membership.extensions import db


@pytest.fixture
def demo_site(app: Flask, live_server: LiveServer) -> LiveServer:
    with app.app_context():
        make_variant(
            "control",
            headline="Readers fund every word here",
            amounts={"once": [100, 500, 1000], "monthly": [300, 500]},
        )
        make_article(
            slug="glacier-mission", title="Glacier mission sets out", body="## Day one\n\nIce."
        )
        make_article(slug="port-strike", title="Port strike ends")
        db.session.remove()
    return live_server


def test_reader_opens_an_article_and_clicks_a_banner_amount(
    browser: Any, demo_site: LiveServer
) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(demo_site.url + "/")
    page.get_by_role("link", name="Glacier mission sets out").click()
    page.wait_for_url("**/articles/glacier-mission")
    assert page.get_by_role("heading", level=1).inner_text() == "Glacier mission sets out"
    banner = page.get_by_role("complementary", name="Readers fund every word here")
    banner.wait_for()
    # The script has personalised the banner: the frequency switch and the dismiss button appear.
    page.get_by_role("button", name="Not now").wait_for()
    page.get_by_role("button", name="Give monthly").click()
    assert page.get_by_role("link", name="$3 a month").is_visible()
    page.get_by_role("button", name="Give once").click()
    page.get_by_role("link", name="$5", exact=True).click()
    page.wait_for_url("**/support?**")
    assert "amount=500" in page.url and "source=glacier-mission" in page.url
    assert "$5" in page.locator("main").inner_text()
    assert errors == []
    context.close()


def test_dismissing_the_banner_keeps_it_away(browser: Any, demo_site: LiveServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(demo_site.url + "/articles/glacier-mission")
    page.get_by_role("button", name="Not now").click()
    assert not page.locator("[data-banner]").is_visible()
    page.goto(demo_site.url + "/articles/port-strike")
    page.wait_for_load_state("networkidle")
    assert not page.locator("[data-banner]").is_visible()
    context.close()


def test_pages_work_without_javascript(browser: Any, demo_site: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(demo_site.url + "/articles/glacier-mission")
    assert page.get_by_role("heading", name="Readers fund every word here").is_visible()
    page.get_by_role("link", name="$10").click()
    page.wait_for_url("**/support?**")
    assert "amount=1000" in page.url
    context.close()


def test_keyboard_reaches_the_banner_amounts(browser: Any, demo_site: LiveServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(demo_site.url + "/articles/glacier-mission")
    page.get_by_role("button", name="Not now").wait_for()
    focused = []
    for _ in range(30):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert "Skip to content" in focused[0]
    assert "$1" in focused and "Other amount" in focused and "Not now" in focused
    context.close()


@pytest.mark.parametrize("path", ["/", "/articles/glacier-mission", "/support?amount=500", "/nope"])
def test_pages_have_no_serious_accessibility_violations(
    browser: Any, demo_site: LiveServer, path: str
) -> None:
    # axe is injected as a script tag, which our CSP rightly forbids; the audit bypasses it.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(demo_site.url + path)
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []
    context.close()
