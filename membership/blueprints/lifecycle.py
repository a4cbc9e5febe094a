"""Reader-facing lifecycle links: the signed redirect behind every link in a lifecycle email, and
the per-kind unsubscribe (a page with a button, and RFC 8058 one-click).

The unsubscribe POST takes no CSRF token: one-click requests come from mail providers with no
cookies. Its signed link is the authorisation, and the worst a forger holding a link can do is
what the link's owner asked for.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template
from flask.typing import ResponseReturnValue

from membership.blueprints import app_config
from membership.caching import no_store
from membership.extensions import csrf, db
from membership.models import utcnow
from membership.services.lifecycle.reader_links import (
    LifecycleLinkError,
    follow_link,
    unsubscribe,
    unsubscribe_page,
)

bp = Blueprint("lifecycle", __name__)


def _bad_link(error: LifecycleLinkError) -> ResponseReturnValue:
    page = render_template(
        "newsletter/message.html", title="That link did not work", message=error.message
    )
    return page, 400


@bp.get("/lifecycle/go/<token>")
@no_store
def go(token: str) -> ResponseReturnValue:
    try:
        target = follow_link(db.session(), app_config(), token, now=utcnow())
    except LifecycleLinkError as error:
        return _bad_link(error)
    db.session().commit()
    return redirect(target, code=303)


@bp.get("/lifecycle/unsubscribe/<token>")
@no_store
def unsubscribe_form(token: str) -> ResponseReturnValue:
    try:
        state = unsubscribe_page(db.session(), app_config(), token)
    except LifecycleLinkError as error:
        return _bad_link(error)
    return render_template("lifecycle/unsubscribe.html", token=token, state=state)


@bp.post("/lifecycle/unsubscribe/<token>")
@no_store
def unsubscribe_now(token: str) -> ResponseReturnValue:
    try:
        state = unsubscribe(db.session(), app_config(), token, now=utcnow())
    except LifecycleLinkError as error:
        return _bad_link(error)
    db.session().commit()
    return render_template(
        "newsletter/message.html",
        title="You're unsubscribed",
        message=f"We won't send you {state.what} any more. Receipts still reach you.",
    )


csrf.exempt(unsubscribe_now)
