"""Finding 8 (fast half): the sign-in page's two forms repeated the ids `csrf_token` and `next`
(the Nu HTML checker's 2 errors). The browser suite runs the checker itself over every page it
visits (tests/browser/conftest.py); this test keeps the reproduction quick to run."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers.accounts import sign_in

pytestmark = pytest.mark.usefixtures("app_context")


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1


def repeated_ids(html: str) -> list[str]:
    parser = _Ids()
    parser.feed(html)
    return sorted(value for value, n in parser.ids.items() if n > 1)


def test_the_sign_in_page_repeats_no_id(client: FlaskClient) -> None:
    html = client.get("/account/sign-in?next=/account").get_data(as_text=True)
    assert repeated_ids(html) == []
    assert html.count('name="csrf_token"') == 2 and html.count('name="next"') == 2


def test_pages_with_several_forms_repeat_no_id(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "reader@example.org")
    for path in ("/account", "/account/preferences"):
        assert repeated_ids(client.get(path).get_data(as_text=True)) == [], path
