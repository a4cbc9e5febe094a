"""Helpers shared by the tests: a live WSGI server, CSRF tokens from pages, tool paths."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AXE_PATH = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise AssertionError("no CSRF token in the page")
    return match.group(1)


class LiveServer:
    def __init__(self, app: Flask, port: int = 0) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class FreshContextClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production. Tests that
    hold an app context open would otherwise share `g` between requests, and with it
    Flask-Login's loaded user and Flask-WTF's CSRF token, across different clients."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)
