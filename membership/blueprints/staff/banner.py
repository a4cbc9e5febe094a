"""The support banner's experiments, for editors: variants with their funnel, editing, start, stop."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from membership.auth import staff_required
from membership.blueprints import app_config
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import (
    EDITOR,
    commit_and_redirect,
    local_today,
    requested_range,
    require_confirmation,
)
from membership.extensions import db
from membership.forms import ConfirmForm
from membership.forms.staff import ReportForm, VariantForm
from membership.models import BannerVariant
from membership.services.reports.attribution import funnel
from membership.services.staff.banner_variants import (
    BannerError,
    all_variants,
    save_variant,
    set_running,
)

bp = Blueprint("banner", __name__)


@bp.get("/banner")
@staff_required(EDITOR)
def index() -> ResponseReturnValue:
    form = requested_range(ReportForm)
    if not form.validate():
        form = ReportForm.from_query({}, local_today())
    results = funnel(
        db.session(), "variant", form.start.data, form.end.data, app_config().zone, limit=None
    )
    return render_template(
        "staff/banner.html",
        variants=all_variants(db.session()),
        results=results,
        form=form,
        action=ConfirmForm(),
    )


def _variant_page(
    form: VariantForm, variant: BannerVariant | None, status: int = 200
) -> tuple[str, int]:
    return render_template("staff/variant_form.html", form=form, variant=variant), status


@bp.route("/banner/new", methods=["GET", "POST"])
@bp.route("/banner/<int:variant_id>", methods=["GET", "POST"])
@staff_required(EDITOR)
def edit_variant(variant_id: int | None = None) -> ResponseReturnValue:
    variant = None if variant_id is None else db.get_or_404(BannerVariant, variant_id)
    if request.method == "GET":
        return _variant_page(VariantForm.of_variant(variant, app_config().currency), variant)
    form = VariantForm(currency=app_config().currency)
    if not form.validate():
        return _variant_page(form, variant, 400)
    try:
        saved = save_variant(db.session(), acting_member(), form.change(), variant=variant)
    except BannerError as error:
        form.name.errors = [*form.name.errors, error.message]
        return _variant_page(form, variant, 400)
    return commit_and_redirect("staff.banner.index", notice=f"Saved the variant “{saved.name}”.")


@bp.post("/banner/<int:variant_id>/start")
@staff_required(EDITOR)
def start_variant(variant_id: int) -> ResponseReturnValue:
    return _set_running(variant_id, True)


@bp.post("/banner/<int:variant_id>/stop")
@staff_required(EDITOR)
def stop_variant(variant_id: int) -> ResponseReturnValue:
    return _set_running(variant_id, False)


def _set_running(variant_id: int, running: bool) -> ResponseReturnValue:
    require_confirmation()
    variant = set_running(
        db.session(), acting_member(), db.get_or_404(BannerVariant, variant_id), running
    )
    notice = f"“{variant.name}” is {'running' if running else 'stopped'}."
    return commit_and_redirect("staff.banner.index", notice=notice)
