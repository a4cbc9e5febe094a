"""The supporter's own pages: their giving (overview, receipts, yearly statements as a page and
as CSV), their settings (email preferences, a password) and their data (export, deletion)."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from membership.auth import end_session, supporter_required
from membership.blueprints import app_config
from membership.blueprints.gifts import with_pending_changes
from membership.caching import set_no_store
from membership.extensions import db, payments
from membership.forms import ConfirmForm
from membership.forms.account import DeleteAccountForm, PreferencesForm, SetPasswordForm
from membership.models import Supporter, utcnow
from membership.notices import Notice
from membership.services import giving_history, privacy, recurring_gifts
from membership.services import newsletter as newsletter_service
from membership.services import preferences as preferences_service
from membership.services import sign_in as sign_in_service
from membership.services.errors import PaymentUnavailable

bp = Blueprint("account", __name__)

# What `?done=` after saving a setting says.
DONE_NOTICES = {
    "saved": Notice.ok("Your email preferences are saved."),
    "password": Notice.ok("Your password is set. You can still sign in by emailed link."),
    "no-password": Notice.ok("Your password is removed: sign in by emailed link."),
}

# Account pages are about one person: no shared cache may keep them.
bp.after_request(set_no_store)


def now() -> datetime:
    return utcnow()


# Giving: overview, receipts, statements


@bp.get("/account")
@supporter_required
def home(supporter: Supporter) -> ResponseReturnValue:
    overview = giving_history.account_overview(db.session(), supporter, zone=app_config().zone)
    recurring = with_pending_changes(overview.recurring)
    return render_template(
        "account/home.html",
        supporter=supporter,
        overview=overview,
        recurring=recurring,
        refresh=any(gift.updating for gift in recurring),
    )


@bp.get("/account/receipts/<receipt_number>")
@supporter_required
def receipt(supporter: Supporter, receipt_number: str) -> ResponseReturnValue:
    line = giving_history.receipt_for(db.session(), supporter, receipt_number)
    if line is None:
        abort(404)
    return render_template("account/receipt.html", supporter=supporter, receipt=line)


def _statement(supporter: Supporter, year: int) -> giving_history.Statement:
    statement = giving_history.yearly_statement(
        db.session(), supporter, year, zone=app_config().zone, now=now()
    )
    if statement is None:
        abort(404)
    return statement


@bp.get("/account/statements/<int:year>")
@supporter_required
def statement(supporter: Supporter, year: int) -> ResponseReturnValue:
    return render_template(
        "account/statement.html", supporter=supporter, statement=_statement(supporter, year)
    )


@bp.get("/account/statements/<int:year>.csv")
@supporter_required
def statement_csv(supporter: Supporter, year: int) -> ResponseReturnValue:
    body = giving_history.statement_csv(_statement(supporter, year), zone=app_config().zone)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="statement-{year}.csv"'
    return response


# Settings: email preferences and password


def _render_preferences(
    supporter: Supporter,
    *,
    form: PreferencesForm | None = None,
    password_form: SetPasswordForm | None = None,
    status: int = 200,
    notice: Notice | None = None,
) -> ResponseReturnValue:
    if form is None:
        current = preferences_service.email_preferences(db.session(), supporter)
        form = PreferencesForm(formdata=None, obj=current)
    config = app_config()
    return (
        render_template(
            "account/preferences.html",
            supporter=supporter,
            form=form,
            password_form=password_form or SetPasswordForm(formdata=None),
            confirm_form=ConfirmForm(),
            notice=notice,
            reminder_days=config.renewal_reminder_days,
            newsletter_name=config.newsletter_name,
        ),
        status,
    )


@bp.get("/account/preferences")
@supporter_required
def preferences(supporter: Supporter) -> ResponseReturnValue:
    return _render_preferences(supporter, notice=DONE_NOTICES.get(request.args.get("done", "")))


@bp.post("/account/preferences")
@supporter_required
def save_preferences(supporter: Supporter) -> ResponseReturnValue:
    form = PreferencesForm()
    if not form.validate():
        return _render_preferences(supporter, form=form, status=400)
    preferences_service.save_email_preferences(
        db.session(),
        supporter,
        preferences_service.EmailPreferences(
            receipts=bool(form.receipts.data),
            renewal_reminders=bool(form.renewal_reminders.data),
            newsletter=bool(form.newsletter.data),
            giving_notes=bool(form.giving_notes.data),
            payment_notices=bool(form.payment_notices.data),
        ),
        ip_hash=newsletter_service.hash_ip(app_config(), request.remote_addr),
        now=now(),
    )
    db.session().commit()
    return redirect(url_for("account.preferences", done="saved"), code=303)


@bp.post("/account/password")
@supporter_required
def set_password(supporter: Supporter) -> ResponseReturnValue:
    form = SetPasswordForm()
    if not form.validate():
        return _render_preferences(supporter, password_form=form, status=400)
    sign_in_service.set_password(db.session(), supporter, form.password.data)
    db.session().commit()
    return redirect(url_for("account.preferences", done="password"), code=303)


@bp.post("/account/password/remove")
@supporter_required
def remove_password(supporter: Supporter) -> ResponseReturnValue:
    if not ConfirmForm().validate():
        abort(400)
    sign_in_service.remove_password(db.session(), supporter)
    db.session().commit()
    return redirect(url_for("account.preferences", done="no-password"), code=303)


# Their data: export and deletion


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


def _render_delete(
    supporter: Supporter,
    form: DeleteAccountForm,
    *,
    status: int = 200,
    notice: Notice | None = None,
) -> ResponseReturnValue:
    return (
        render_template(
            "account/delete.html",
            supporter=supporter,
            form=form,
            recurring_count=len(recurring_gifts.shown_gifts(db.session(), supporter)),
            notice=notice,
        ),
        status,
    )


@bp.get("/account/delete")
@supporter_required
def delete_confirm(supporter: Supporter) -> ResponseReturnValue:
    return _render_delete(supporter, DeleteAccountForm(formdata=None))


@bp.post("/account/delete")
@supporter_required
def delete_account(supporter: Supporter) -> ResponseReturnValue:
    form = DeleteAccountForm()
    if not form.validate():
        return _render_delete(supporter, form, status=400)
    try:
        privacy.delete_account(db.session(), payments.gateway, supporter, now=now())
    except PaymentUnavailable as error:
        db.session().rollback()
        failed = Notice.error(f"{error.message} Your account was not deleted.")
        return _render_delete(supporter, form, status=503, notice=failed)
    db.session().commit()
    end_session()
    return redirect(url_for("account.deleted"), code=303)


@bp.get("/account/deleted")
def deleted() -> ResponseReturnValue:
    return render_template("account/deleted.html")
