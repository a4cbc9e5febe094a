"""Pages that are the same for every reader: no session dependence, so shared caches may keep them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, g, make_response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

F = TypeVar("F", bound=Callable[..., Any])


def public_page(view: F) -> F:
    """Declare that a view's response does not depend on the reader's session or cookies."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.public_page = True
        return view(*args, **kwargs)

    wrapper.public_page = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def is_public_page_request() -> bool:
    """True when the request goes to a public page (read before the view runs)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "public_page", False))


class PublicPageAwareSessionInterface(SecureCookieSessionInterface):
    """Flask adds `Vary: Cookie` whenever an extension merely peeks at the session (Flask-Login
    does after every request). A public page never reads it for its content, so that header would
    only split shared caches per reader; leave it off there, and never set a cookie from them."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Most readers send no session cookie: skip building the signing serializer for them.
        if not app.secret_key:
            return None
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if g.get("public_page") and not session.modified:
            return
        super().save_session(app, session, response)


NO_STORE = "private, no-store"


def set_no_store(response: Response) -> Response:
    """Pages about one person (or one browser): no cache, shared or private, may keep them.
    Use as a blueprint's `after_request` hook when every page of the blueprint is such a page."""
    response.headers["Cache-Control"] = NO_STORE
    return response


def no_store(view: F) -> F:
    """A view whose every response is `Cache-Control: private, no-store`."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return set_no_store(make_response(view(*args, **kwargs)))

    return wrapper  # type: ignore[return-value]


def content_fingerprint(folders: list[str], version: str) -> str:
    """A short hash of every file under `folders` plus the app's version: it changes with any
    deploy that changes what a page looks like, so validators (ETags) of old pages stop matching."""
    digest = hashlib.sha256(version.encode())
    for folder in folders:
        root = Path(folder)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
