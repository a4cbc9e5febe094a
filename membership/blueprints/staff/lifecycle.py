"""Lifecycle email, for editors and finance: each kind's switch, copy (Markdown with placeholders,
previewed with a sample supporter) and results (sent, opened the link, converted)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from membership.auth import staff_required
from membership.blueprints import app_config
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import EDITOR, FINANCE, commit_and_redirect
from membership.extensions import db
from membership.forms.staff_lifecycle import LifecycleForm
from membership.models import utcnow
from membership.services.lifecycle import settings as settings_service
from membership.services.lifecycle.kinds import KINDS, Kind
from membership.services.lifecycle.stats import kind_stats

bp = Blueprint("lifecycle", __name__, url_prefix="/lifecycle")


def _kind_or_404(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        abort(404)
    return kind


@bp.get("")
@staff_required(EDITOR, FINANCE)
def index() -> ResponseReturnValue:
    session = db.session()
    rows = [
        (setting, kind_stats(session, setting.kind.name))
        for setting in settings_service.all_settings(session)
    ]
    return render_template("staff/lifecycle/index.html", rows=rows)


def _page(
    kind: Kind,
    form: LifecycleForm,
    *,
    preview: settings_service.Preview | None = None,
    error: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    session = db.session()
    if preview is None and not error:
        current = settings_service.setting_for(session, kind)
        preview = settings_service.preview(
            app_config(), kind, current.copy.subject, current.copy.body
        )
    page = render_template(
        "staff/lifecycle/kind.html",
        kind=kind,
        form=form,
        preview=preview,
        error=error,
        stats=kind_stats(session, kind.name),
        setting=settings_service.setting_for(session, kind),
    )
    return page, status


@bp.get("/<name>")
@staff_required(EDITOR, FINANCE)
def kind(name: str) -> ResponseReturnValue:
    kind = _kind_or_404(name)
    current = settings_service.setting_for(db.session(), kind)
    form = LifecycleForm(
        data={
            "enabled": current.enabled,
            "subject": current.copy.subject,
            "body": current.copy.body,
        }
    )
    return _page(kind, form)


@bp.post("/<name>")
@staff_required(EDITOR)
def save(name: str) -> ResponseReturnValue:
    """Save the switch and copy, or (the Preview button) only show the email they would make."""
    kind = _kind_or_404(name)
    form = LifecycleForm()
    if not form.validate():
        return _page(kind, form, error="Check the form below.", status=400)
    subject, body = form.subject.data or "", form.body.data or ""
    try:
        if request.form.get("action") == "preview":
            return _page(
                kind, form, preview=settings_service.preview(app_config(), kind, subject, body)
            )
        settings_service.save_setting(
            db.session(),
            kind,
            enabled=bool(form.enabled.data),
            subject=subject,
            body=body,
            actor=acting_member(),
            now=utcnow(),
        )
    except settings_service.TemplateError as error:
        return _page(kind, form, error=error.message, status=400)
    state = "on" if form.enabled.data else "off"
    return commit_and_redirect(
        "staff.lifecycle.kind", notice=f"Saved. “{kind.title}” is {state}.", name=kind.name
    )
