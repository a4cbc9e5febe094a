"""Forms of the staff accounts page (admins only): add a staff member, change a role."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from membership.addresses import is_mailable
from membership.models import StaffMember, StaffRole


class StaffAddForm(FlaskForm):  # type: ignore[misc]
    email = StringField(
        "Email", validators=[DataRequired("Give their email address."), Length(max=254)]
    )
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField(
        "Role",
        choices=[SelectChoice(r.value, r.value.capitalize()) for r in StaffRole],
        default="editor",
    )

    def validate_email(self, field: StringField) -> None:
        if not is_mailable(field.data or ""):
            raise ValidationError("Enter an email address like name@example.com.")


class StaffChangeForm(FlaskForm):  # type: ignore[misc]
    """One per staff member on the accounts page; the prefix tells their forms apart."""

    role = SelectField(
        "Role", choices=[SelectChoice(r.value, r.value.capitalize()) for r in StaffRole]
    )
    active = BooleanField("May sign in")

    @staticmethod
    def prefix_of(member_id: int) -> str:
        return f"m{member_id}"

    @classmethod
    def of_member(cls, member: StaffMember) -> StaffChangeForm:
        data = {"role": member.role.value, "active": member.active}
        return cls(data=data, formdata=None, prefix=cls.prefix_of(member.id))
