"""Campaigns, for editors (and their figures for finance): list with progress, create, edit."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from membership.auth import staff_required
from membership.blueprints import app_config
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import EDITOR, FINANCE, commit_and_redirect
from membership.extensions import db
from membership.forms.staff_campaign import CampaignForm
from membership.models import Campaign, Placement, utcnow
from membership.services.campaigns import CampaignError
from membership.services.reports.attribution import FUNNEL_PAGE_COLUMNS
from membership.services.staff.campaigns import campaign_reports, save_as_staff

bp = Blueprint("campaigns", __name__)


@bp.get("/campaigns")
@staff_required(EDITOR, FINANCE)
def index() -> ResponseReturnValue:
    config = app_config()
    return render_template(
        "staff/campaigns.html",
        reports=campaign_reports(db.session(), config.zone, utcnow()),
        columns=FUNNEL_PAGE_COLUMNS,
        placements={p.value for p in Placement},
    )


def _page(form: CampaignForm, campaign: Campaign | None, status: int = 200) -> tuple[str, int]:
    return render_template("staff/campaign_form.html", form=form, campaign=campaign), status


@bp.route("/campaigns/new", methods=["GET", "POST"])
@bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@staff_required(EDITOR)
def edit_campaign(campaign_id: int | None = None) -> ResponseReturnValue:
    config = app_config()
    campaign = None if campaign_id is None else db.get_or_404(Campaign, campaign_id)
    if request.method == "GET":
        return _page(CampaignForm.of_campaign(campaign, config.currency, config.zone), campaign)
    form = CampaignForm(currency=config.currency)
    if not form.validate():
        return _page(form, campaign, 400)
    try:
        saved = save_as_staff(
            db.session(), acting_member(), form.change(config.zone), campaign=campaign
        )
    except CampaignError as error:
        form.body.errors = [*form.body.errors, error.message]
        return _page(form, campaign, 400)
    return commit_and_redirect(
        "staff.campaigns.index", notice=f"Saved the campaign “{saved.name}”."
    )
