"""The staff dashboard: this month's money and MRR for finance, a way in for editors."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from membership import charts
from membership.auth import staff_may, staff_required
from membership.blueprints import app_config
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import EDITOR, FINANCE
from membership.extensions import db
from membership.models import utcnow
from membership.services.reports.dashboard import dashboard, mrr_trend

bp = Blueprint("dashboard", __name__)


@bp.get("")
@staff_required(EDITOR, FINANCE)
def index() -> ResponseReturnValue:
    if not staff_may(acting_member(), (FINANCE,)):
        return render_template("staff/dashboard.html", sees_money=False)
    config, now = app_config(), utcnow()
    board = dashboard(db.session(), config.zone, now)
    trend = mrr_trend(db.session(), config.zone, now)
    return render_template(
        "staff/dashboard.html",
        sees_money=True,
        board=board,
        trend=trend,
        trend_chart=charts.mrr_trend_chart(trend, config.currency, config.locale),
    )
