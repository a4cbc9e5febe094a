"""Reader-facing lifecycle links: the signed redirect behind every link in a lifecycle email, the
per-kind unsubscribe (a page with a button, and RFC 8058 one-click), and the upgrade ask's page:
the monthly gift it offers, with one button that opens Checkout for it (a GET never does).

The unsubscribe POST takes no CSRF token: one-click requests come from mail providers with no
cookies. Its signed link is the authorisation, and the worst a forger holding a link can do is
what the link's owner asked for.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, session
from flask.typing import ResponseReturnValue

from membership.blueprints import app_config
from membership.blueprints.donate import INTENT_KEY
from membership.caching import no_store
from membership.extensions import csrf, db, limiter, payments
from membership.forms import ConfirmForm
from membership.models import utcnow
from membership.rate_limits import limits_must_hold
from membership.services.checkout import create_intent, start_checkout
from membership.services.errors import ServiceError
from membership.services.lifecycle.reader_links import (
    LifecycleLinkError,
    follow_link,
    unsubscribe,
    unsubscribe_page,
)
from membership.services.lifecycle.upgrade import UpgradeLinkError, UpgradeOffer, upgrade_offer

bp = Blueprint("lifecycle", __name__)


def _bad_link(error: LifecycleLinkError | UpgradeLinkError) -> ResponseReturnValue:
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


def _upgrade_page(
    token: str, offer: UpgradeOffer, *, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "lifecycle/upgrade.html", token=token, offer=offer, form=ConfirmForm(), error=error
    )
    return page, status


@bp.get("/support/monthly/<token>")
@no_store
def upgrade(token: str) -> ResponseReturnValue:
    """What the upgrade ask's button will do, and the button. Reads only: mail scanners and link
    previews fetch this page, and no Checkout Session may come of that."""
    try:
        offer = upgrade_offer(db.session(), app_config(), token)
    except UpgradeLinkError as error:
        return _bad_link(error)
    return _upgrade_page(token, offer)


def _checkout_limit() -> str:
    return app_config().support_rate_limit


def _created_checkout(response: Response) -> bool:
    return response.status_code == 303


@bp.post("/support/monthly/<token>")
@no_store
@limiter.limit(_checkout_limit, deduct_when=_created_checkout)
@limiter.limit("30/minute")
@limits_must_hold
def start_upgrade(token: str) -> ResponseReturnValue:
    """The button: a Checkout Session for the offered monthly gift, with the supporter's address
    and Stripe customer, recorded like a gift from the support form (source `upgrade-ask`)."""
    config = app_config()
    if not ConfirmForm().validate():
        abort(400, "This form has expired. Open the link from the email again.")
    session_db = db.session()
    try:
        offer = upgrade_offer(session_db, config, token)
    except UpgradeLinkError as error:
        return _bad_link(error)
    if offer.already_monthly:
        return _upgrade_page(token, offer)
    try:
        intent = create_intent(session_db, offer.choice, config)
        url = start_checkout(
            session_db,
            payments.gateway,
            intent,
            config,
            source_slug=offer.choice.source_slug,
            supporter=offer.supporter,
        )
    except ServiceError as error:
        # Nothing half-recorded: the intent goes with the rollback.
        session_db.rollback()
        offer = upgrade_offer(session_db, config, token)
        return _upgrade_page(token, offer, error=error.message, status=503)
    session_db.commit()
    session[INTENT_KEY] = intent.id
    return redirect(url, code=303)
