"""Funding reports for finance: the report page for a date range, and its CSV downloads."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from membership import charts
from membership.auth import staff_required
from membership.blueprints import app_config
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import FINANCE, csv_download, requested_range
from membership.csv_export import csv_chunks
from membership.extensions import db
from membership.forms.staff import ExportForm, ReportForm
from membership.models import utcnow
from membership.services.reports.exports import export_report
from membership.services.reports.periods import ReportError
from membership.services.reports.range_report import REPORT_TABLES, full_report

bp = Blueprint("reports", __name__)


@bp.get("/reports")
@staff_required(FINANCE)
def index() -> ResponseReturnValue:
    form = requested_range(ReportForm)
    if not form.validate():
        return render_template("staff/reports.html", form=form, result=None), 400
    config = app_config()
    try:
        result = full_report(db.session(), form.report_request(), config.zone, utcnow())
    except ReportError as error:
        form.end.errors = [*form.end.errors, error.message]
        return render_template("staff/reports.html", form=form, result=None), 400
    return render_template(
        "staff/reports.html",
        form=form,
        result=result,
        charts=charts.report_charts(result, config.currency, config.locale),
        tables=REPORT_TABLES,
        query=form.query(),
    )


@bp.get("/reports.csv")
@staff_required(FINANCE)
def export() -> ResponseReturnValue:
    form = requested_range(ExportForm)
    if not form.validate():
        messages = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return _cannot_export(messages)
    config = app_config()
    try:
        download = export_report(
            db.session(),
            acting_member(),
            form.report.data,
            form.report_request(),
            zone=config.zone,
            currency=config.currency,
            now=utcnow(),
        )
    except ReportError as error:
        return _cannot_export(error.message)
    db.session().commit()  # the audit entry, before the first byte
    return csv_download(csv_chunks(download.rows), download.filename)


def _cannot_export(reason: str) -> Response:
    return Response(f"Cannot export: {reason}\n", status=400, mimetype="text/plain")
