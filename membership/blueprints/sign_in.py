"""Signing in and out, for supporters and staff alike: the emailed one-time link, the optional
password, sign-out and sign-out everywhere; and the rate limits that keep guessing slow."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import TooManyRequests

from membership.auth import end_session, signed_in_staff, signed_in_supporter, start_session
from membership.blueprints import app_config
from membership.caching import set_no_store
from membership.extensions import db, limiter
from membership.forms import ConfirmForm
from membership.forms.account import PasswordSignInForm, SignInForm
from membership.models import utcnow
from membership.notices import Notice
from membership.rate_limits import limits_must_hold
from membership.services import sign_in as sign_in_service
from membership.services.sign_in import SignInError
from membership.services.supporters import normalize_email

bp = Blueprint("sign_in", __name__)

NONCE_KEY = "sign_in_nonce"
SENT_TO_KEY = "sign_in_sent_to"
SIGNED_OUT_NOTICES = {
    "everywhere": Notice.ok("You're signed out on every device and browser."),
    "here": Notice.ok("You're signed out."),
}

# Sign-in pages are about one browser's attempt: no shared cache may keep them.
bp.after_request(set_no_store)


def now() -> datetime:
    return utcnow()


# Rate limits: per network (IP) and per address asked for, on every way of signing in.


def _ip_limit() -> str:
    return app_config().sign_in_rate_limit_ip


def _address_limit() -> str:
    return app_config().sign_in_rate_limit_address


def _address_key() -> str:
    return "address:" + normalize_email(request.form.get("email", ""))[:254]


limit_per_ip = limiter.limit(_ip_limit, methods=["POST"])
limit_per_address = limiter.limit(_address_limit, key_func=_address_key, methods=["POST"])


@bp.errorhandler(TooManyRequests)
def _too_many(error: TooManyRequests) -> ResponseReturnValue:
    response = Response(
        render_template(
            "errors/error.html",
            status=429,
            title="Too many sign-in attempts",
            message=(
                "You've asked to sign in several times in a short while, so we've paused "
                "sign-in for this address or network for a few minutes. If you asked for a "
                "link, it may already be in your inbox (check the spam folder too). Please "
                "wait a little and try again."
            ),
        ),
        status=429,
    )
    retry_after = error.get_response().headers.get("Retry-After")
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


def _render_sign_in(
    form: SignInForm | None = None,
    password_form: PasswordSignInForm | None = None,
    *,
    status: int = 200,
    notice: Notice | None = None,
) -> ResponseReturnValue:
    next_path = sign_in_service.safe_next_path(request.values.get("next")) or ""
    form = form or SignInForm(formdata=None, data={"next": next_path})
    password_form = password_form or PasswordSignInForm(formdata=None, data={"next": next_path})
    failed = notice is not None and notice.kind == "error"
    return (
        render_template(
            "account/sign_in.html",
            form=form,
            password_form=password_form,
            notice=notice,
            password_open=bool(password_form.errors) or failed,
        ),
        status,
    )


def _signed_in(account: sign_in_service.Account, next_path: str | None) -> ResponseReturnValue:
    start_session(account)
    return redirect(sign_in_service.landing_path(account, next_path), code=303)


@bp.route("/account/sign-in", methods=["GET", "POST"])
@limit_per_ip
@limit_per_address
@limits_must_hold
def start() -> ResponseReturnValue:
    """GET: the page; POST: email a sign-in link. The answer is the same for every address."""
    if request.method == "POST":
        return _request_link()
    account = signed_in_supporter() or signed_in_staff()
    if account is not None:
        return redirect(sign_in_service.landing_path(account, request.args.get("next")))
    return _render_sign_in(notice=SIGNED_OUT_NOTICES.get(request.args.get("signed_out", "")))


def _request_link() -> ResponseReturnValue:
    form = SignInForm()
    if not form.validate():
        return _render_sign_in(form, status=400)
    nonce = session.get(NONCE_KEY)
    if not isinstance(nonce, str):
        nonce = sign_in_service.new_browser_nonce()
        session[NONCE_KEY] = nonce
    sign_in_service.request_sign_in_link(
        db.session(),
        email=form.email.data,
        browser_nonce=nonce,
        next_path=form.next.data,
        config=app_config(),
        now=now(),
    )
    db.session().commit()
    session[SENT_TO_KEY] = normalize_email(form.email.data)
    return redirect(url_for("sign_in.link_sent"), code=303)


@bp.get("/account/sign-in/sent")
def link_sent() -> ResponseReturnValue:
    address = session.get(SENT_TO_KEY)
    return render_template(
        "account/link_sent.html",
        address=address if isinstance(address, str) else None,
        minutes=app_config().sign_in_link_minutes,
    )


@bp.post("/account/sign-in/password")
@limit_per_ip
@limit_per_address
@limits_must_hold
def with_password() -> ResponseReturnValue:
    form = PasswordSignInForm()
    if not form.validate():
        return _render_sign_in(password_form=form, status=400)
    try:
        account = sign_in_service.sign_in_with_password(
            db.session(), email=form.email.data, password=form.password.data
        )
    except SignInError as error:
        db.session().rollback()
        return _render_sign_in(password_form=form, status=400, notice=Notice.error(error.message))
    db.session().commit()
    return _signed_in(account, form.next.data)


def _invalid_link(error: SignInError) -> ResponseReturnValue:
    db.session().rollback()
    return _render_sign_in(status=400, notice=Notice.error(error.message))


@bp.get("/account/sign-in/<token>")
def open_link(token: str) -> ResponseReturnValue:
    """Shows a button; only its POST uses the link, so mail scanners that open links do not."""
    try:
        check = sign_in_service.check_sign_in_link(
            db.session(), token, browser_nonce=session.get(NONCE_KEY), now=now()
        )
    except SignInError as error:
        return _invalid_link(error)
    response = Response(
        render_template("account/confirm_link.html", form=ConfirmForm(), token=token, check=check)
    )
    # The token is in this page's address: never send it on as a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/account/sign-in/<token>")
def use_link(token: str) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate():
        expired = Notice.error("Your form expired. Please open the link again.")
        return _render_sign_in(status=400, notice=expired)
    try:
        account, next_path = sign_in_service.use_sign_in_link(db.session(), token, now=now())
    except SignInError as error:
        return _invalid_link(error)
    db.session().commit()
    return _signed_in(account, next_path)


@bp.post("/account/sign-out")
def sign_out() -> ResponseReturnValue:
    if not ConfirmForm().validate():
        abort(400)
    end_session()
    return redirect(url_for("sign_in.start", signed_out="here"), code=303)


@bp.post("/account/sign-out-everywhere")
def sign_out_everywhere() -> ResponseReturnValue:
    if not ConfirmForm().validate():
        abort(400)
    account = signed_in_supporter() or signed_in_staff()
    if account is None:
        return redirect(url_for("sign_in.start"), code=303)
    sign_in_service.sign_out_everywhere(db.session(), account)
    db.session().commit()
    end_session()
    return redirect(url_for("sign_in.start", signed_out="everywhere"), code=303)
