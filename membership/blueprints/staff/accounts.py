"""Staff accounts, for admins: who may sign in to the staff area, and with which role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from membership.auth import staff_required
from membership.blueprints.staff.gate import acting_member
from membership.blueprints.staff.layout import ADMIN, commit_and_redirect
from membership.extensions import db
from membership.forms.staff_accounts import StaffAddForm, StaffChangeForm
from membership.models import StaffMember
from membership.services.staff.accounts import StaffError, add_staff, change_staff, list_staff

bp = Blueprint("accounts", __name__)


def _accounts_page(add_form: StaffAddForm, status: int = 200, error: str = "") -> tuple[str, int]:
    members = list_staff(db.session())
    forms = {m.id: StaffChangeForm.of_member(m) for m in members}
    return (
        render_template(
            "staff/accounts.html", members=members, forms=forms, add_form=add_form, error=error
        ),
        status,
    )


@bp.get("/accounts")
@staff_required(ADMIN)
def index() -> ResponseReturnValue:
    return _accounts_page(StaffAddForm(formdata=None))


@bp.post("/accounts")
@staff_required(ADMIN)
def add() -> ResponseReturnValue:
    form = StaffAddForm()
    if not form.validate():
        return _accounts_page(form, 400)
    try:
        member = add_staff(
            db.session(),
            acting_member(),
            email=form.email.data,
            role=form.role.data,
            name=form.name.data or "",
        )
    except StaffError as error:
        form.email.errors = [*form.email.errors, error.message]
        return _accounts_page(form, 400)
    notice = f"{member.email} can now sign in as {member.role.value}."
    return commit_and_redirect("staff.accounts.index", notice=notice)


@bp.post("/accounts/<int:member_id>")
@staff_required(ADMIN)
def change(member_id: int) -> ResponseReturnValue:
    member = db.get_or_404(StaffMember, member_id)
    form = StaffChangeForm(prefix=StaffChangeForm.prefix_of(member_id))
    if not form.validate():
        return _accounts_page(StaffAddForm(formdata=None), 400, "Choose a role from the list.")
    try:
        change_staff(
            db.session(),
            acting_member(),
            member,
            role=form.role.data,
            active=bool(form.active.data),
        )
    except StaffError as error:
        return _accounts_page(StaffAddForm(formdata=None), 400, error.message)
    state = "active" if member.active else "deactivated"
    notice = f"{member.email}: {member.role.value}, {state}."
    return commit_and_redirect("staff.accounts.index", notice=notice)
