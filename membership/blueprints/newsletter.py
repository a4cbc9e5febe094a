"""Reader-facing newsletter pages: sign up, confirm (double opt-in), unsubscribe (RFC 8058).

Why POST /newsletter takes no CSRF token: the sign-up form sits under every article and in the
footer of pages that are cached and identical for every reader, so they cannot carry a per-session
token. What a forged request could do is limited by design: it can only ask for one confirmation
email to be sent to an address (nothing is subscribed until the link in that email is followed and
its button pressed), the answer is the same whatever the address's state, and requests are rate
limited per IP and per address. On top of that, a browser POST whose Origin (or Sec-Fetch-Site)
says it came from another site is refused, which is what a CSRF token would have stopped.

The unsubscribe POST takes no token either: RFC 8058 one-click requests come from mail providers
with no cookies. Its signed link is the authorisation, and the worst a forger holding a link can do
is what the link's owner asked for.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from membership.blueprints import app_config
from membership.caching import no_store, public_page
from membership.config import Config
from membership.extensions import csrf, db, limiter
from membership.forms.newsletter import ConfirmSubscriptionForm, SubscribeForm
from membership.rate_limits import limits_must_hold
from membership.services.newsletter import subscriptions
from membership.services.newsletter.consent import (
    CONSENT_WORDINGS,
    CURRENT_WORDING,
    consent_wording,
)
from membership.services.newsletter.links import NewsletterTokenError, TestEmailLink
from membership.services.supporters import normalize_email

bp = Blueprint("newsletter", __name__)


@bp.record_once
def _install_globals(state: BlueprintSetupState) -> None:
    app = state.app
    config: Config = app.config["MEMBERSHIP"]
    app.jinja_env.globals.update(
        newsletter_consent_version=CURRENT_WORDING,
        newsletter_consent_wording=consent_wording(config),
    )


def _address_key() -> str:
    # Per address, whatever IP it comes from: one inbox cannot be flooded with confirmations.
    address = normalize_email(request.form.get("email", ""))[:254]
    return f"newsletter-address:{address or request.remote_addr}"


def _ip_limit() -> str:
    return app_config().newsletter_ip_rate_limit


def _address_limit() -> str:
    return app_config().newsletter_address_rate_limit


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _from_another_site() -> bool:
    """True when the browser says the form was sent from a page on another site."""
    origin = request.headers.get("Origin")
    if origin is not None:
        allowed = {_origin_of(request.host_url), _origin_of(app_config().base_url)}
        return origin.lower() not in allowed
    # Browsers that send no Origin may still send Fetch Metadata; non-browsers send neither,
    # and cannot be tricked into a request on someone else's behalf anyway.
    return request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none")


def _page(form: SubscribeForm, *, status: int = 200) -> ResponseReturnValue:
    return render_template("newsletter/subscribe.html", form=form), status


@bp.get("/newsletter")
@public_page
def subscribe_page() -> ResponseReturnValue:
    """The full sign-up page, which also answers when the footer form had a mistake."""
    form = SubscribeForm(
        formdata=None,
        data={
            "source": request.args.get("source", "newsletter-page")[:120],
            "consent_version": CURRENT_WORDING,
        },
    )
    form.validate_source(form.source)
    response = Response(render_template("newsletter/subscribe.html", form=form))
    response.headers["Cache-Control"] = f"public, max-age={app_config().article_cache_seconds}"
    return response


@bp.post("/newsletter")
@limiter.limit(_ip_limit)
@limiter.limit(_address_limit, key_func=_address_key)
@limits_must_hold
def subscribe() -> ResponseReturnValue:
    if _from_another_site():
        abort(400, "This form was sent from another website. Please sign up on our own page.")
    form = SubscribeForm()
    if not form.validate():
        if form.website.errors:
            # A bot filled in the hidden field: answer as if all went well, send nothing.
            return redirect(url_for("newsletter.check_inbox"), code=303)
        return _page(form, status=400)
    version = form.consent_version.data
    if version not in CONSENT_WORDINGS:
        # A page from before a wording change we no longer know: show the current one instead.
        form.consent_version.data = CURRENT_WORDING
        form.email.errors = ["Our sign-up wording has changed: please read it and sign up again."]
        return _page(form, status=400)
    subscriptions.request_subscription(
        db.session(),
        app_config(),
        email=form.email.data,
        source=form.source.data or "unknown",
        wording_version=version,
        ip=request.remote_addr,
    )
    db.session().commit()
    return redirect(url_for("newsletter.check_inbox"), code=303)


csrf.exempt(subscribe)


@bp.errorhandler(429)
def too_many_requests(error: Exception) -> ResponseReturnValue:
    response = Response(
        render_template(
            "newsletter/message.html",
            title="Please wait a little",
            message=(
                "You have asked for several confirmation emails in a short time. If you asked "
                "for one already, it is on its way: check your inbox and your spam folder. "
                "Otherwise please try again in an hour."
            ),
        ),
        status=429,
    )
    response.headers["Retry-After"] = "3600"
    return response


@bp.get("/newsletter/check-your-inbox")
@public_page
def check_inbox() -> ResponseReturnValue:
    return render_template("newsletter/check_inbox.html")


def _bad_link(message: str) -> ResponseReturnValue:
    return Response(
        render_template("newsletter/message.html", title="That link did not work", message=message),
        status=400,
    )


@bp.get("/newsletter/confirm/<token>")
@no_store
def confirm_page(token: str) -> ResponseReturnValue:
    """A button, not an automatic confirmation: mail security scanners open every link in an
    email, and one would otherwise complete a sign-up a stranger started for someone else."""
    try:
        link = subscriptions.confirmation_page(db.session(), app_config(), token)
    except NewsletterTokenError as error:
        return _bad_link(error.message)
    return render_template(
        "newsletter/confirm.html",
        form=ConfirmSubscriptionForm(),
        token=token,
        address=link.address,
        already=link.done,
    )


@bp.post("/newsletter/confirm/<token>")
@no_store
@limiter.limit("30/minute")
def confirm(token: str) -> ResponseReturnValue:
    form = ConfirmSubscriptionForm()
    if not form.validate():
        return _bad_link("That form expired. Open the link from the email again.")
    try:
        subscriptions.confirm_subscription(
            db.session(), app_config(), token, ip=request.remote_addr
        )
    except NewsletterTokenError as error:
        return _bad_link(error.message)
    db.session().commit()
    return redirect(url_for("newsletter.confirmed"), code=303)


@bp.get("/newsletter/confirmed")
@public_page
def confirmed() -> ResponseReturnValue:
    return render_template(
        "newsletter/message.html",
        title="You're subscribed",
        message=f"Thank you. {app_config().newsletter_name} will arrive in your inbox.",
    )


@bp.get("/newsletter/unsubscribe/<token>")
@no_store
def unsubscribe_page(token: str) -> ResponseReturnValue:
    try:
        link = subscriptions.unsubscribe_page(db.session(), app_config(), token)
    except TestEmailLink as error:
        return _test_email_page(error)
    except NewsletterTokenError as error:
        return _bad_link(error.message)
    return render_template(
        "newsletter/unsubscribe.html", token=token, address=link.address, already=link.done
    )


@bp.post("/newsletter/unsubscribe/<token>")
@no_store
def unsubscribe(token: str) -> ResponseReturnValue:
    """RFC 8058 one-click: mail providers POST "List-Unsubscribe=One-Click" here with no cookies;
    our own page's button posts here too. Either way the signed link is the authorisation."""
    try:
        subscriptions.unsubscribe_with_token(
            db.session(), app_config(), token, ip=request.remote_addr
        )
    except TestEmailLink as error:
        return _test_email_page(error)
    except NewsletterTokenError as error:
        return _bad_link(error.message)
    db.session().commit()
    return render_template(
        "newsletter/message.html",
        title="You're unsubscribed",
        message=(
            f"You won't get {app_config().newsletter_name} any more. If that was a mistake, "
            "you can sign up again at any time."
        ),
        subscribe_again=True,
    )


csrf.exempt(unsubscribe)


def _test_email_page(error: TestEmailLink) -> ResponseReturnValue:
    return render_template(
        "newsletter/message.html", title="That was a test email", message=error.message
    )
