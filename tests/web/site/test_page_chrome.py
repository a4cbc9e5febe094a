"""What surrounds the content: one newsletter form per article page, no public sign-up on staff
pages, and a past-due notice that says how to fix the card."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers.factories import make_article, make_variant
from helpers.staff import make_staff, staff_client
from membership.models import StaffRole

pytestmark = pytest.mark.usefixtures("app_context")


def test_an_article_page_carries_one_newsletter_form(client: FlaskClient) -> None:
    make_variant()
    make_article(slug="story")
    page = client.get("/articles/story").get_data(as_text=True)
    assert page.count('action="/newsletter"') == 1
    assert "Get stories like this by email" in page


def test_other_public_pages_keep_the_footer_sign_up(client: FlaskClient) -> None:
    make_article(slug="story")
    assert client.get("/").get_data(as_text=True).count('action="/newsletter"') == 1


@pytest.mark.parametrize("path", ["/staff", "/staff/banner", "/staff/articles"])
def test_staff_pages_carry_no_public_newsletter_footer(app: Flask, path: str) -> None:
    client = staff_client(app, make_staff(StaffRole.ADMIN))
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'action="/newsletter"' not in page
    assert "footer-newsletter" not in page
