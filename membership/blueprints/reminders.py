""" "Remind me later" from the appeal: ask for the one reminder, or cancel it."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from membership.blueprints import app_config
from membership.caching import no_store
from membership.extensions import db, limiter
from membership.formatting import format_date
from membership.forms import ConfirmForm
from membership.forms.support import ReminderForm
from membership.models import utcnow
from membership.services.appeal_reminders import (
    REMIND_AFTER,
    ask_for_reminder,
    cancel_reminder,
    reminder_consent_wording,
)

bp = Blueprint("reminders", __name__)


def _page(form: ReminderForm, status: int = 200) -> tuple[str, int]:
    config = app_config()
    return (
        render_template("donate/remind.html", form=form, wording=reminder_consent_wording(config)),
        status,
    )


@bp.get("/support/remind")
@no_store
def remind() -> ResponseReturnValue:
    source = request.args.get("source", default="", type=str)[:120]
    return _page(ReminderForm(data={"source": source}, formdata=None))


@bp.post("/support/remind")
@no_store
@limiter.limit("10/hour")
def ask() -> ResponseReturnValue:
    form = ReminderForm()
    if not form.validate():
        return _page(form, 400)
    config = app_config()
    now = utcnow()
    ask_for_reminder(
        db.session(), email=form.email.data, source=form.source.data or "", config=config, now=now
    )
    db.session().commit()
    return render_template(
        "donate/remind_done.html", when=format_date(now + REMIND_AFTER, config.zone)
    )


@bp.route("/support/remind/cancel/<token>", methods=["GET", "POST"])
@no_store
@limiter.limit("30/hour")
def cancel(token: str) -> ResponseReturnValue:
    """A button, not a bare link: mail scanners follow links."""
    form = ConfirmForm()
    if request.method == "GET":
        return render_template("donate/remind_cancel.html", form=form, done=False)
    if not form.validate():
        abort(400)
    if not cancel_reminder(db.session(), token=token, config=app_config(), now=utcnow()):
        abort(404)
    db.session().commit()
    return render_template("donate/remind_cancel.html", form=form, done=True)
