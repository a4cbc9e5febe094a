"""Forms of sign-in and the supporter's account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from membership.forms import AmountLimits, check_email


class SignInForm(FlaskForm):  # type: ignore[misc]
    email = StringField(
        "Email address",
        validators=[Length(max=254, message="That email address is too long.")],
    )
    next = HiddenField(validators=[Length(max=500)])

    def validate_email(self, field: StringField) -> None:
        check_email(field)


class PasswordSignInForm(FlaskForm):  # type: ignore[misc]
    email = StringField(
        "Email address",
        validators=[Length(max=254, message="That email address is too long.")],
    )
    password = PasswordField(
        "Password", validators=[Length(max=200, message="That password is too long.")]
    )
    next = HiddenField(validators=[Length(max=500)])

    def validate_email(self, field: StringField) -> None:
        check_email(field)

    def validate_password(self, field: PasswordField) -> None:
        if not field.data:
            raise ValidationError("Enter your password.")


class ChangeGiftForm(AmountLimits, FlaskForm):  # type: ignore[misc]
    amount = StringField("Amount", validators=[Length(max=20)])
    frequency = RadioField(
        "How often",
        choices=[SelectChoice("monthly", "Every month"), SelectChoice("annual", "Every year")],
        validate_choice=False,
    )
    cover_fee = BooleanField("Add the card fee so all of my gift reaches the newsroom")

    def validate_frequency(self, field: RadioField) -> None:
        if field.data not in {"monthly", "annual"}:
            raise ValidationError("Choose every month or every year.")

    def validate_amount(self, field: StringField) -> None:
        self.accept_amount(self.parse_amount(field.data or ""))


class PauseForm(FlaskForm):  # type: ignore[misc]
    months = RadioField(
        "Pause for",
        choices=[
            SelectChoice("1", "One month"),
            SelectChoice("2", "Two months"),
            SelectChoice("3", "Three months"),
        ],
        validate_choice=False,
    )

    def validate_months(self, field: RadioField) -> None:
        if field.data not in {"1", "2", "3"}:
            raise ValidationError("Choose one, two or three months.")


class PreferencesForm(FlaskForm):  # type: ignore[misc]
    receipts = BooleanField("A receipt by email for every payment")
    renewal_reminders = BooleanField("A reminder two weeks before an annual gift renews")
    newsletter = BooleanField("The newsletter")


class SetPasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("New password", validators=[Length(max=200)])
    confirm = PasswordField("The same password again", validators=[Length(max=200)])

    def validate_password(self, field: PasswordField) -> None:
        if len(field.data or "") < 10:
            raise ValidationError("Choose a password of at least 10 characters.")

    def validate_confirm(self, field: PasswordField) -> None:
        if (field.data or "") != (self.password.data or ""):
            raise ValidationError("The two passwords are not the same.")


class DeleteAccountForm(FlaskForm):  # type: ignore[misc]
    confirm = BooleanField("I understand: delete my account and cancel my recurring gifts")

    def validate_confirm(self, field: BooleanField) -> None:
        if not field.data:
            raise ValidationError("Tick the box to confirm, or go back to keep your account.")
