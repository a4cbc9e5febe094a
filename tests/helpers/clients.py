"""The one test client every test uses, and reading a form's CSRF token from a page."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient


class FreshContextClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production. Tests that
    hold an app context open would otherwise share `g` between requests, and with it
    Flask-Login's loaded user and Flask-WTF's CSRF token, across different clients."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def use_fresh_context_clients(app: Flask) -> Flask:
    """Make `app.test_client()` (and so the `client` fixture) hand out FreshContextClients."""
    app.test_client_class = FreshContextClient
    return app


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise AssertionError("no CSRF token in the page")
    return match.group(1)
