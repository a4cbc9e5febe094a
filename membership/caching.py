"""Pages that are the same for every reader: no session dependence, so shared caches may keep them."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, g
from flask.sessions import SecureCookieSessionInterface, SessionMixin

F = TypeVar("F", bound=Callable[..., Any])


def public_page(view: F) -> F:
    """Declare that a view's response does not depend on the reader's session or cookies."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.public_page = True
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class PublicPageAwareSessionInterface(SecureCookieSessionInterface):
    """Flask adds `Vary: Cookie` whenever an extension merely peeks at the session (Flask-Login
    does after every request). A public page never reads it for its content, so that header would
    only split shared caches per reader; leave it off there, and never set a cookie from them."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if g.get("public_page") and not session.modified:
            return
        super().save_session(app, session, response)
