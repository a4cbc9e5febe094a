"""The staff area's gate: every staff view is refused unless it declares who may open it."""

from __future__ import annotations

from flask import abort, current_app, request
from werkzeug.wrappers import Response

from membership.auth import declared_staff_roles, refuse_unless_staff, signed_in_staff
from membership.models import StaffMember


def refuse_unless_opened() -> Response | None:
    """Before every staff view. A view is opened to roles with `@staff_required(...)`; one that
    declares no roles refuses everyone (anonymous visitors are sent to sign in, signed-in people
    get a 403), so a forgotten decorator fails closed instead of open."""
    view = current_app.view_functions.get(request.endpoint or "")
    return refuse_unless_staff(declared_staff_roles(view))


def acting_member() -> StaffMember:
    """The staff member making this request (the gate let them in)."""
    member = signed_in_staff()
    if member is None:  # pragma: no cover - the gate refused anyone else
        abort(403)
    return member
