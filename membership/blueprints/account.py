"""Supporter accounts: sign-in (emailed link or password) for supporters and staff, the supporter's
home with gifts, receipts and statements, managing a recurring gift, preferences and privacy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from membership.auth import signed_in_staff, signed_in_supporter
from membership.blueprints import app_config
from membership.caching import set_no_store
from membership.extensions import db, limiter, payments
from membership.forms import ConfirmForm
from membership.forms.account import (
    ChangeGiftForm,
    DeleteAccountForm,
    PasswordSignInForm,
    PauseForm,
    PreferencesForm,
    SetPasswordForm,
    SignInForm,
)
from membership.frequency import FREQUENCY_OF, INTERVAL_OF
from membership.models import Frequency, SubscriberStatus, Subscription, Supporter, utcnow
from membership.payments.gateway import PaymentProviderError
from membership.services import accounts, newsletter, privacy
from membership.services.accounts import AccountError, PendingChange, SignInLinkInvalid
from membership.services.supporters import normalize_email

bp = Blueprint("account", __name__)

NONCE_KEY = "sign_in_nonce"
SENT_TO_KEY = "sign_in_sent_to"
PENDING_KEY = "account_pending"
# After this long without the webhook, stop saying "updating" and say it is taking a while.
PENDING_PATIENCE_SECONDS = 120


def now() -> datetime:
    return utcnow()


# Account pages are about one person: no shared cache may keep them.
bp.after_request(set_no_store)


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


def supporter_required(view: Callable[..., ResponseReturnValue]) -> Callable[..., Any]:
    """Supporters only; others go to sign in, and staff get a page saying why not."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        supporter = signed_in_supporter()
        if supporter is None:
            if signed_in_staff() is not None:
                abort(
                    403,
                    description="You're signed in with a staff account; supporter pages "
                    "belong to supporters. Sign out first to use a supporter account.",
                )
            return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")))
        return view(supporter, *args, **kwargs)

    return wrapper


# Sign-in


def _ip_limit() -> str:
    return app_config().sign_in_rate_limit_ip


def _address_limit() -> str:
    return app_config().sign_in_rate_limit_address


def _address_key() -> str:
    return "address:" + normalize_email(request.form.get("email", ""))[:254]


def _render_sign_in(
    form: SignInForm | None = None,
    password_form: PasswordSignInForm | None = None,
    *,
    status: int = 200,
    notice: str = "",
    error: str = "",
) -> ResponseReturnValue:
    next_path = accounts.safe_next_path(request.values.get("next")) or ""
    form = form or SignInForm(formdata=None, data={"next": next_path})
    password_form = password_form or PasswordSignInForm(formdata=None, data={"next": next_path})
    return (
        render_template(
            "account/sign_in.html",
            form=form,
            password_form=password_form,
            notice=notice,
            error=error,
            password_open=bool(password_form.errors) or bool(error),
        ),
        status,
    )


def _start_session(account: accounts.Account) -> None:
    """A fresh session for the signed-in account: nothing from before survives (rotation)."""
    session.clear()
    login_user(account)
    session.permanent = True


def _after_sign_in(account: accounts.Account, next_path: str | None) -> ResponseReturnValue:
    default = "/account" if isinstance(account, Supporter) else "/staff"
    return redirect(accounts.safe_next_path(next_path) or default, code=303)


@bp.route("/account/sign-in", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_address_limit, key_func=_address_key, methods=["POST"])
def sign_in() -> ResponseReturnValue:
    """GET: the page; POST: email a sign-in link. The answer is the same for every address."""
    if request.method == "POST":
        return _request_link()
    if signed_in_supporter() is not None or signed_in_staff() is not None:
        default = "/account" if signed_in_supporter() is not None else "/staff"
        return redirect(accounts.safe_next_path(request.args.get("next")) or default)
    notice = ""
    if request.args.get("signed_out") == "everywhere":
        notice = "You're signed out on every device and browser."
    elif request.args.get("signed_out") == "here":
        notice = "You're signed out."
    return _render_sign_in(notice=notice)


def _request_link() -> ResponseReturnValue:
    form = SignInForm()
    if not form.validate():
        return _render_sign_in(form, status=400)
    nonce = session.get(NONCE_KEY)
    if not isinstance(nonce, str):
        nonce = accounts.new_browser_nonce()
        session[NONCE_KEY] = nonce
    accounts.request_sign_in_link(
        db.session(),
        email=form.email.data,
        browser_nonce=nonce,
        next_path=form.next.data,
        config=app_config(),
        now=now(),
    )
    db.session().commit()
    session[SENT_TO_KEY] = normalize_email(form.email.data)
    return redirect(url_for("account.link_sent"), code=303)


@bp.get("/account/sign-in/sent")
def link_sent() -> ResponseReturnValue:
    address = session.get(SENT_TO_KEY)
    return render_template(
        "account/link_sent.html",
        address=address if isinstance(address, str) else None,
        minutes=app_config().sign_in_link_minutes,
    )


@bp.post("/account/sign-in/password")
@limiter.limit(_ip_limit)
@limiter.limit(_address_limit, key_func=_address_key)
def password_sign_in() -> ResponseReturnValue:
    form = PasswordSignInForm()
    if not form.validate():
        return _render_sign_in(password_form=form, status=400)
    try:
        account = accounts.sign_in_with_password(
            db.session(), email=form.email.data, password=form.password.data
        )
    except AccountError as error:
        db.session().rollback()
        return _render_sign_in(password_form=form, status=400, error=str(error))
    db.session().commit()
    _start_session(account)
    return _after_sign_in(account, form.next.data)


def _invalid_link(error: AccountError) -> ResponseReturnValue:
    db.session().rollback()
    return _render_sign_in(status=400, error=str(error))


@bp.get("/account/sign-in/<token>")
def open_link(token: str) -> ResponseReturnValue:
    """Shows a button; only its POST uses the link, so mail scanners that open links do not."""
    try:
        check = accounts.check_sign_in_link(
            db.session(), token, browser_nonce=session.get(NONCE_KEY), now=now()
        )
    except SignInLinkInvalid as error:
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
        return _render_sign_in(status=400, error="Your form expired. Please open the link again.")
    try:
        account, next_path = accounts.use_sign_in_link(db.session(), token, now=now())
    except AccountError as error:
        return _invalid_link(error)
    db.session().commit()
    _start_session(account)
    return _after_sign_in(account, next_path)


@bp.post("/account/sign-out")
def sign_out() -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    logout_user()
    session.clear()
    return redirect(url_for("account.sign_in", signed_out="here"), code=303)


@bp.post("/account/sign-out-everywhere")
def sign_out_everywhere() -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    account = signed_in_supporter() or signed_in_staff()
    if account is None:
        return redirect(url_for("account.sign_in"), code=303)
    accounts.sign_out_everywhere(db.session(), account)
    db.session().commit()
    logout_user()
    session.clear()
    return redirect(url_for("account.sign_in", signed_out="everywhere"), code=303)


# Pending changes: Stripe has them, our row waits for the webhook


def _remember_pending(change: PendingChange) -> None:
    pending = dict(session.get(PENDING_KEY) or {})
    pending[str(change.subscription_id)] = {"expect": change.expect, "since": int(time.time())}
    session[PENDING_KEY] = pending


def _pending_state(subscriptions: list[Subscription]) -> dict[int, str]:
    """Per subscription id: "updating" while the webhook has not arrived, "slow" if it is late.
    Entries the row now reflects are forgotten."""
    stored = session.get(PENDING_KEY)
    if not isinstance(stored, dict) or not stored:
        return {}
    state: dict[int, str] = {}
    keep: dict[str, Any] = {}
    for subscription in subscriptions:
        entry = stored.get(str(subscription.id))
        if not isinstance(entry, dict) or not isinstance(entry.get("expect"), dict):
            continue
        change = PendingChange(subscription.id, entry["expect"])
        if change.reflected_in(subscription):
            continue
        waited = time.time() - float(entry.get("since") or 0)
        state[subscription.id] = "slow" if waited > PENDING_PATIENCE_SECONDS else "updating"
        keep[str(subscription.id)] = entry
    others = {k: v for k, v in stored.items() if k not in {str(s.id) for s in subscriptions}}
    if {**others, **keep} != stored:
        session[PENDING_KEY] = {**others, **keep}
    return state


# The supporter's home


@bp.get("/account")
@supporter_required
def home(supporter: Supporter) -> ResponseReturnValue:
    config = app_config()
    overview = accounts.account_overview(db.session(), supporter, zone=config.zone)
    pending = _pending_state([gift.subscription for gift in overview.recurring])
    return render_template(
        "account/home.html",
        supporter=supporter,
        overview=overview,
        pending=pending,
        status_label=accounts.status_label,
        net_cents=accounts.net_cents,
        sign_out_form=ConfirmForm(),
    )


@bp.get("/account/receipts/<receipt_number>")
@supporter_required
def receipt(supporter: Supporter, receipt_number: str) -> ResponseReturnValue:
    donation = accounts.receipt_for(db.session(), supporter, receipt_number)
    if donation is None:
        abort(404)
    return render_template(
        "account/receipt.html",
        supporter=supporter,
        donation=donation,
        frequency=accounts.donation_frequency(db.session(), donation),
        status_label=accounts.status_label,
        sign_out_form=ConfirmForm(),
    )


def _statement_year(year: int) -> int:
    if not 2000 <= year <= now().astimezone(app_config().zone).year + 1:
        abort(404)
    return year


@bp.get("/account/statements/<int:year>")
@supporter_required
def statement(supporter: Supporter, year: int) -> ResponseReturnValue:
    config = app_config()
    result = accounts.yearly_statement(
        db.session(), supporter, _statement_year(year), zone=config.zone
    )
    overview = accounts.account_overview(db.session(), supporter, zone=config.zone)
    return render_template(
        "account/statement.html",
        supporter=supporter,
        statement=result,
        frequency_of=overview.frequency_of,
        status_label=accounts.status_label,
        net_cents=accounts.net_cents,
        sign_out_form=ConfirmForm(),
    )


@bp.get("/account/statements/<int:year>.csv")
@supporter_required
def statement_csv(supporter: Supporter, year: int) -> ResponseReturnValue:
    config = app_config()
    result = accounts.yearly_statement(
        db.session(), supporter, _statement_year(year), zone=config.zone
    )
    overview = accounts.account_overview(db.session(), supporter, zone=config.zone)
    body = accounts.statement_csv(result, zone=config.zone, frequencies=overview.frequency_of)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="statement-{year}.csv"'
    return response


# A recurring gift


def _owned(supporter: Supporter, subscription_id: int) -> Subscription:
    subscription = accounts.owned_subscription(db.session(), supporter, subscription_id)
    if subscription is None:
        abort(404)
    return subscription


def _change_form(subscription: Subscription, *, formdata: bool) -> ChangeGiftForm:
    config = app_config()
    kwargs: dict[str, Any] = {}
    if not formdata:
        kwargs = {
            "formdata": None,
            "data": {
                "amount": f"{subscription.gift_cents / 100:.2f}".removesuffix(".00"),
                "frequency": FREQUENCY_OF[subscription.interval].value,
                "cover_fee": subscription.fee_cents > 0,
            },
        }
    return ChangeGiftForm(
        min_cents=config.min_amount_cents,
        max_cents=config.max_amount_cents,
        currency=config.currency,
        **kwargs,
    )


def _render_gift(
    supporter: Supporter,
    subscription: Subscription,
    *,
    status: int = 200,
    change_form: ChangeGiftForm | None = None,
    pause_form: PauseForm | None = None,
    error: str = "",
    template: str = "account/gift.html",
) -> ResponseReturnValue:
    pending = _pending_state([subscription])
    return (
        render_template(
            template,
            supporter=supporter,
            subscription=subscription,
            gift=accounts.RecurringGift(
                subscription,
                accounts.next_payment(subscription),
                subscription.status in accounts.MANAGEABLE,
            ),
            pending=pending.get(subscription.id),
            change_form=change_form or _change_form(subscription, formdata=False),
            pause_form=pause_form or PauseForm(formdata=None, data={"months": "1"}),
            confirm_form=ConfirmForm(),
            sign_out_form=ConfirmForm(),
            suggestions=accounts.suggested_amounts(
                subscription, min_cents=app_config().min_amount_cents
            ),
            error=error,
        ),
        status,
    )


def _apply(
    supporter: Supporter,
    subscription: Subscription,
    action: Callable[[], PendingChange],
    *,
    template: str = "account/gift.html",
) -> ResponseReturnValue:
    try:
        change = action()
    except AccountError as error:
        return _render_gift(
            supporter, subscription, status=400, error=str(error), template=template
        )
    except PaymentProviderError as error:
        return _render_gift(
            supporter, subscription, status=503, error=error.message, template=template
        )
    _remember_pending(change)
    return redirect(url_for("account.gift", subscription_id=subscription.id), code=303)


@bp.get("/account/gifts/<int:subscription_id>")
@supporter_required
def gift(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    return _render_gift(supporter, _owned(supporter, subscription_id))


@bp.post("/account/gifts/<int:subscription_id>/change")
@supporter_required
def change_gift(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    subscription = _owned(supporter, subscription_id)
    form = _change_form(subscription, formdata=True)
    if not form.validate() or form.amount_cents is None:
        return _render_gift(supporter, subscription, status=400, change_form=form)
    gift_cents = form.amount_cents
    return _apply(
        supporter,
        subscription,
        lambda: accounts.change_gift(
            db.session(),
            payments.gateway,
            subscription,
            gift_cents=gift_cents,
            interval=INTERVAL_OF[Frequency(form.frequency.data)],
            cover_fee=bool(form.cover_fee.data),
            config=app_config(),
        ),
    )


@bp.post("/account/gifts/<int:subscription_id>/pause")
@supporter_required
def pause_gift(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    subscription = _owned(supporter, subscription_id)
    form = PauseForm()
    if not form.validate():
        return _render_gift(supporter, subscription, status=400, pause_form=form)
    months = int(form.months.data)
    return _apply(
        supporter,
        subscription,
        lambda: accounts.pause_gift(payments.gateway, subscription, months=months, now=now()),
    )


def _confirmed_action(
    supporter: Supporter,
    subscription_id: int,
    action: Callable[[Subscription], PendingChange],
    template: str = "account/gift.html",
) -> ResponseReturnValue:
    subscription = _owned(supporter, subscription_id)
    if not ConfirmForm().validate():
        abort(400)
    return _apply(supporter, subscription, lambda: action(subscription), template=template)


@bp.post("/account/gifts/<int:subscription_id>/resume")
@supporter_required
def resume_gift(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    return _confirmed_action(
        supporter, subscription_id, lambda s: accounts.resume_gift(payments.gateway, s)
    )


@bp.get("/account/gifts/<int:subscription_id>/cancel")
@supporter_required
def cancel_offer(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    """Before cancelling: a lower amount, or a pause, may suit better."""
    subscription = _owned(supporter, subscription_id)
    return _render_gift(supporter, subscription, template="account/cancel.html")


@bp.post("/account/gifts/<int:subscription_id>/cancel")
@supporter_required
def cancel_gift(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    return _confirmed_action(
        supporter,
        subscription_id,
        lambda s: accounts.cancel_gift_at_period_end(payments.gateway, s),
        template="account/cancel.html",
    )


@bp.post("/account/gifts/<int:subscription_id>/keep")
@supporter_required
def keep_gift(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    return _confirmed_action(
        supporter, subscription_id, lambda s: accounts.keep_gift(payments.gateway, s)
    )


@bp.post("/account/gifts/<int:subscription_id>/card")
@supporter_required
def update_card(supporter: Supporter, subscription_id: int) -> ResponseReturnValue:
    subscription = _owned(supporter, subscription_id)
    if not ConfirmForm().validate():
        abort(400)
    return_url = app_config().base_url.rstrip("/") + url_for(
        "account.gift", subscription_id=subscription.id
    )
    try:
        url = accounts.card_update_url(
            payments.gateway, supporter, subscription, return_url=return_url
        )
    except AccountError as error:
        return _render_gift(supporter, subscription, status=400, error=str(error))
    except PaymentProviderError as error:
        return _render_gift(supporter, subscription, status=503, error=error.message)
    return redirect(url, code=303)


# Preferences, password, privacy


def _render_preferences(
    supporter: Supporter,
    *,
    form: PreferencesForm | None = None,
    password_form: SetPasswordForm | None = None,
    status: int = 200,
    notice: str = "",
) -> ResponseReturnValue:
    form = form or PreferencesForm(
        formdata=None,
        data={
            "receipts": supporter.receipt_emails,
            "renewal_reminders": supporter.renewal_reminders,
            "newsletter": newsletter.supporter_subscription(db.session(), supporter)
            is SubscriberStatus.CONFIRMED,
        },
    )
    return (
        render_template(
            "account/preferences.html",
            supporter=supporter,
            form=form,
            password_form=password_form or SetPasswordForm(formdata=None),
            confirm_form=ConfirmForm(),
            sign_out_form=ConfirmForm(),
            notice=notice,
            reminder_days=app_config().renewal_reminder_days,
            newsletter_name=app_config().newsletter_name,
        ),
        status,
    )


@bp.get("/account/preferences")
@supporter_required
def preferences(supporter: Supporter) -> ResponseReturnValue:
    notices = {
        "saved": "Your email preferences are saved.",
        "password": "Your password is set. You can still sign in by emailed link.",
        "no-password": "Your password is removed: sign in by emailed link.",
    }
    return _render_preferences(supporter, notice=notices.get(request.args.get("done", ""), ""))


@bp.post("/account/preferences")
@supporter_required
def save_preferences(supporter: Supporter) -> ResponseReturnValue:
    form = PreferencesForm()
    if not form.validate():
        return _render_preferences(supporter, form=form, status=400)
    accounts.update_preferences(
        db.session(),
        supporter,
        receipts=bool(form.receipts.data),
        renewal_reminders=bool(form.renewal_reminders.data),
    )
    wanted = bool(form.newsletter.data)
    subscribed = (
        newsletter.supporter_subscription(db.session(), supporter) is SubscriberStatus.CONFIRMED
    )
    if wanted != subscribed:  # only a real change goes into the consent ledger
        newsletter.set_supporter_subscription(
            db.session(),
            supporter,
            wanted,
            source="account",
            ip_hash=newsletter.hash_ip(app_config(), request.remote_addr),
        )
    db.session().commit()
    return redirect(url_for("account.preferences", done="saved"), code=303)


@bp.post("/account/password")
@supporter_required
def set_password(supporter: Supporter) -> ResponseReturnValue:
    form = SetPasswordForm()
    if not form.validate():
        return _render_preferences(supporter, password_form=form, status=400)
    accounts.set_password(db.session(), supporter, form.password.data)
    db.session().commit()
    return redirect(url_for("account.preferences", done="password"), code=303)


@bp.post("/account/password/remove")
@supporter_required
def remove_password(supporter: Supporter) -> ResponseReturnValue:
    if not ConfirmForm().validate():
        abort(400)
    accounts.remove_password(db.session(), supporter)
    db.session().commit()
    return redirect(url_for("account.preferences", done="no-password"), code=303)


@bp.get("/account/data.json")
@supporter_required
def download_data(supporter: Supporter) -> ResponseReturnValue:
    data = privacy.export_personal_data(db.session(), supporter, now=now())
    response = Response(
        json.dumps(data, indent=2, ensure_ascii=False, default=str),
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@bp.get("/account/delete")
@supporter_required
def delete_confirm(supporter: Supporter) -> ResponseReturnValue:
    return _render_delete(supporter, DeleteAccountForm(formdata=None))


def _render_delete(
    supporter: Supporter, form: DeleteAccountForm, *, status: int = 200, error: str = ""
) -> ResponseReturnValue:
    overview = accounts.account_overview(db.session(), supporter, zone=app_config().zone)
    return (
        render_template(
            "account/delete.html",
            supporter=supporter,
            form=form,
            recurring=overview.recurring,
            sign_out_form=ConfirmForm(),
            error=error,
        ),
        status,
    )


@bp.post("/account/delete")
@supporter_required
def delete_account(supporter: Supporter) -> ResponseReturnValue:
    form = DeleteAccountForm()
    if not form.validate():
        return _render_delete(supporter, form, status=400)
    try:
        privacy.delete_account(db.session(), payments.gateway, supporter, now=now())
    except PaymentProviderError as error:
        db.session().rollback()
        return _render_delete(
            supporter,
            form,
            status=503,
            error=f"{error.message} Your account was not deleted.",
        )
    db.session().commit()
    logout_user()
    session.clear()
    return redirect(url_for("account.deleted"), code=303)


@bp.get("/account/deleted")
def deleted() -> ResponseReturnValue:
    return render_template("account/deleted.html")
