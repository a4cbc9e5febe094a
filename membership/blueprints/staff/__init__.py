"""The staff area under /staff: one blueprint per family of pages, nested in `staff`, behind one
gate that denies by default (`gate.py`). Every response is `Cache-Control: private, no-store`.

Endpoints are `staff.<family>.<view>`, e.g. `url_for("staff.reports.export")`.
"""

from __future__ import annotations

from flask import Blueprint

from membership.blueprints.staff import (
    accounts,
    articles,
    audit,
    banner,
    campaigns,
    dashboard,
    gate,
    integrations,
    layout,
    lifecycle,
    newsletter,
    reports,
    supporters,
)
from membership.caching import set_no_store

bp = Blueprint("staff", __name__, url_prefix="/staff")
# Runs before every view of every family below, including the error pages they raise.
bp.before_request(gate.refuse_unless_opened)
bp.after_request(set_no_store)
bp.context_processor(layout.staff_context)
for family in (
    dashboard,
    reports,
    supporters,
    banner,
    campaigns,
    articles,
    newsletter,
    lifecycle,
    audit,
    accounts,
    integrations,
):
    bp.register_blueprint(family.bp)
