"""The audit log, for admins: who did what, newest first, by page and by action."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from membership.auth import staff_required
from membership.blueprints.staff.layout import ADMIN
from membership.extensions import db
from membership.services.staff.audit import ACTIONS, audit_page

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@staff_required(ADMIN)
def index() -> ResponseReturnValue:
    number = request.args.get("page", default=1, type=int)
    action = request.args.get("action", default="", type=str)
    if action and action not in ACTIONS:
        abort(400, "There is no such action in the audit log.")
    page = audit_page(db.session(), number, action=action or None) or abort(404)
    return render_template("staff/audit.html", page=page, actions=ACTIONS, action=action)
