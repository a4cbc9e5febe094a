"""Who is signed in: Flask-Login's user loader for staff (and, later, supporters)."""

from __future__ import annotations

from membership.extensions import db, login_manager
from membership.models import StaffMember
from membership.models.base import LoginMixin


def load_user(user_id: str) -> LoginMixin | None:
    kind, _, raw_id = user_id.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "staff":
        member = db.session.get(StaffMember, int(raw_id))
        return member if member is not None and member.active else None
    return None


login_manager.user_loader(load_user)
