"""The reader's donation form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from membership.addresses import CONTROL_RE, is_mailable
from membership.forms import AmountLimits, amount_message


class SupportForm(AmountLimits, FlaskForm):  # type: ignore[misc]
    frequency = RadioField(
        "How often",
        choices=[
            SelectChoice("once", "Once"),
            SelectChoice("monthly", "Monthly"),
            SelectChoice("annual", "Every year"),
        ],
        default="once",
    )
    # Rendered as radio buttons of the preset amounts plus "other"; any whole number of cents in
    # range is accepted, since a banner may have offered an amount the form does not list.
    amount_choice = StringField("Amount", validators=[Length(max=20)])
    other_amount = StringField("Other amount", validators=[Length(max=20)])
    cover_fee = BooleanField("Cover the card processing fee")
    email = StringField(
        "Email for your receipt",
        validators=[Optional(), Length(max=254, message="That email address is too long.")],
    )
    # A field people never see: bots that fill in every field give themselves away.
    website = StringField("Leave this empty", validators=[Length(max=200)])
    source = HiddenField(validators=[Length(max=120)])
    variant = HiddenField(validators=[Length(max=12)])

    def validate_frequency(self, field: RadioField) -> None:
        if field.data not in {"once", "monthly", "annual"}:
            raise ValidationError("Choose once, monthly or every year.")

    def validate_email(self, field: StringField) -> None:
        if field.data and not is_mailable(field.data):
            raise ValidationError(
                "Enter an email address like name@example.com, or leave it empty."
            )

    def validate_amount_choice(self, field: StringField) -> None:
        choice = (field.data or "").strip()
        if choice in ("", "other") and not (self.other_amount.data or "").strip():
            raise ValidationError("Choose an amount, or enter your own.")
        if choice in ("", "other"):
            cents = self.parse_amount(self.other_amount.data or "")
        elif choice.isascii() and choice.isdigit() and len(choice) <= 9:
            cents = int(choice)
        else:
            raise ValidationError(amount_message(self.currency))
        self.accept_amount(cents)

    def validate_website(self, field: StringField) -> None:
        if field.data:
            raise ValidationError("Please leave this field empty.")

    def validate_variant(self, field: HiddenField) -> None:
        if field.data and not str(field.data).isdigit():
            field.data = ""

    def validate_source(self, field: HiddenField) -> None:
        # An article slug or nothing: a mangled one (NUL and friends) is dropped, not looked up.
        if field.data and CONTROL_RE.search(str(field.data)):
            field.data = ""
