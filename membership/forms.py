"""WTForms forms: one class per form; every field validated on the server with plain messages."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from email.utils import parseaddr
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FileField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from membership.formatting import format_money

# Control characters never belong in an address (and PostgreSQL refuses NUL in text).
EMAIL_RE = re.compile(
    r"^[^@\s<>\"'\x00-\x1f\x7f]{1,64}@[^@\s<>\"'\x00-\x1f\x7f]+\.[^@\s<>\"'.\x00-\x1f\x7f]{2,}$"
)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_AMOUNT_RE = re.compile(r"^\$?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")


def address_problem(raw: str) -> str | None:
    """Why this is not an address we can mail, in plain words; None when it is fine."""
    address = raw.strip().lower()
    if not address:
        return "empty"
    if len(address) > 254:
        return "too long to be an email address"
    # The outbox refuses what parseaddr would read differently; refuse it here, at the door.
    if (
        not EMAIL_RE.match(address)
        or parseaddr(address)[1] != address
        or any(ord(ch) < 32 or ord(ch) == 127 or ch in ",;:()[]\\" for ch in address)
    ):
        return "not an email address"
    return None


def parse_amount_cents(raw: str) -> int:
    """ "5" -> 500, "12.5" -> 1250, "$1,000.00" -> 100000; anything else raises ValueError."""
    text = raw.strip()
    if not _AMOUNT_RE.match(text):
        raise ValueError(raw)
    try:
        value = Decimal(text.lstrip("$").strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(raw) from None
    return int(value * 100)


class AmountLimits:
    """For forms that take a gift: the configured smallest and largest amounts, one message each."""

    amount_cents: int | None = None

    def __init__(self, *args: Any, min_cents: int, max_cents: int, currency: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.min_cents = min_cents
        self.max_cents = max_cents
        self.currency = currency

    def accept_amount(self, cents: int) -> None:
        if cents < self.min_cents:
            raise ValidationError(
                f"The smallest gift we can take is {format_money(self.min_cents, self.currency)}."
            )
        if cents > self.max_cents:
            raise ValidationError(
                f"Online gifts can be up to {format_money(self.max_cents, self.currency)}. "
                "For a larger gift, please write to us."
            )
        self.amount_cents = cents


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
    other_amount = StringField("Other amount, in dollars", validators=[Length(max=20)])
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
        if field.data and not EMAIL_RE.match(field.data.strip()):
            raise ValidationError(
                "Enter an email address like name@example.com, or leave it empty."
            )

    def validate_amount_choice(self, field: StringField) -> None:
        choice = (field.data or "").strip()
        if choice in ("", "other") and not (self.other_amount.data or "").strip():
            raise ValidationError("Choose an amount, or enter your own.")
        try:
            if choice in ("", "other"):
                cents = parse_amount_cents(self.other_amount.data or "")
            elif choice.isdigit() and len(choice) <= 9:
                cents = int(choice)
            else:
                raise ValueError(choice)
        except ValueError:
            raise ValidationError("Enter an amount in dollars, like 5 or 12.50.") from None
        self.accept_amount(cents)

    def validate_website(self, field: StringField) -> None:
        if field.data:
            raise ValidationError("Please leave this field empty.")

    def validate_variant(self, field: HiddenField) -> None:
        if field.data and not str(field.data).isdigit():
            field.data = ""

    def validate_source(self, field: HiddenField) -> None:
        # An article slug or nothing: a mangled one (NUL and friends) is dropped, not looked up.
        if field.data and _CONTROL_RE.search(str(field.data)):
            field.data = ""


# Supporter accounts


def _check_email(field: StringField) -> None:
    if not EMAIL_RE.match((field.data or "").strip()):
        raise ValidationError("Enter your email address, like name@example.com.")


class SignInForm(FlaskForm):  # type: ignore[misc]
    email = StringField(
        "Email address",
        validators=[Length(max=254, message="That email address is too long.")],
    )
    next = HiddenField(validators=[Length(max=500)])

    def validate_email(self, field: StringField) -> None:
        _check_email(field)


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
        _check_email(field)

    def validate_password(self, field: PasswordField) -> None:
        if not field.data:
            raise ValidationError("Enter your password.")


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button and nothing else: the CSRF token is the whole form."""


class ChangeGiftForm(AmountLimits, FlaskForm):  # type: ignore[misc]
    amount = StringField("Amount, in dollars", validators=[Length(max=20)])
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
        try:
            cents = parse_amount_cents(field.data or "")
        except ValueError:
            raise ValidationError("Enter an amount in dollars, like 5 or 12.50.") from None
        self.accept_amount(cents)


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


class SubscribeForm(FlaskForm):  # type: ignore[misc]
    """The newsletter sign-up under articles, in the footer and on /newsletter.

    No CSRF token: the form is part of cached pages that are the same for every reader, and the
    view checks the request's Origin instead. See blueprints/newsletter.py for why that is safe.
    """

    class Meta:
        csrf = False

    email = StringField(
        "Your email address",
        validators=[Length(max=254, message="That email address is too long.")],
    )
    source = HiddenField(validators=[Length(max=120)])
    consent_version = HiddenField(validators=[Length(max=40)])
    website = StringField("Leave this empty", validators=[Length(max=200)])

    def validate_email(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if not value:
            raise ValidationError("Enter your email address.")
        if address_problem(value):
            raise ValidationError("Enter an email address like name@example.com.")

    def validate_website(self, field: StringField) -> None:
        if field.data:
            raise ValidationError("Please leave this field empty.")

    def validate_source(self, field: HiddenField) -> None:
        # Only a tidy label is kept; anything odd is recorded as "unknown" rather than refused.
        value = (field.data or "").strip()
        if not _SOURCE_RE.match(value):
            field.data = "unknown"


_SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:/._-]{0,119}$")


class ConfirmSubscriptionForm(FlaskForm):  # type: ignore[misc]
    """Only a button: link scanners follow GET links, people press buttons."""


class SubscriberFilterForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    q = StringField("Search addresses", validators=[Optional(), Length(max=320)])
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Any status"),
            SelectChoice("pending", "Pending"),
            SelectChoice("confirmed", "Confirmed"),
            SelectChoice("unsubscribed", "Unsubscribed"),
        ],
        default="",
        validate_choice=False,
    )
    source = SelectField(
        "Source", choices=[SelectChoice("", "Any source")], default="", validate_choice=False
    )


class ImportSubscribersForm(FlaskForm):  # type: ignore[misc]
    file = FileField("CSV file with one email address per row")
    basis = TextAreaField(
        "Consent basis: how did these people agree to get the newsletter?",
        validators=[Length(max=1000, message="Keep the consent basis under 1000 characters.")],
    )
    action = HiddenField()

    def validate_file(self, field: FileField) -> None:
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError("Choose a CSV file.")

    def validate_basis(self, field: TextAreaField) -> None:
        if len(" ".join((field.data or "").split())) < 10:
            raise ValidationError(
                "Say on what basis these people agreed, e.g. 'signed up on paper at the 2026 "
                "book fair'."
            )


class IssueForm(FlaskForm):  # type: ignore[misc]
    subject = StringField(
        "Subject line",
        validators=[Length(max=200, message="Keep the subject under 200 characters.")],
    )
    body = TextAreaField(
        "Body, in Markdown",
        validators=[Length(max=200_000, message="That is too long for one email.")],
    )

    def validate_subject(self, field: StringField) -> None:
        if not " ".join((field.data or "").split()):
            raise ValidationError("Give the issue a subject line.")


class SendIssueForm(FlaskForm):  # type: ignore[misc]
    confirm = BooleanField("Yes, send this issue to every confirmed subscriber now")

    def validate_confirm(self, field: BooleanField) -> None:
        if not field.data:
            raise ValidationError("Tick the box to confirm you want to send it to everyone.")
