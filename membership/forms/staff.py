"""WTForms forms of the staff area: one class per form, validated on the server with plain messages."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from membership.addresses import EMAIL_RE
from membership.forms import parse_amount_cents
from membership.models import ArticleStatus, Frequency, StaffRole
from membership.services.articles import SLUG_RE

GROUP_CHOICES = [
    SelectChoice("day", "Day"),
    SelectChoice("week", "Week"),
    SelectChoice("month", "Month"),
]
EXPORT_CHOICES = [
    SelectChoice("money", "Money by period"),
    SelectChoice("movements", "MRR movements"),
    SelectChoice("cohorts", "Cohort retention"),
    SelectChoice("articles", "Articles"),
    SelectChoice("variants", "Banner variants"),
    SelectChoice("donations", "Every donation"),
]


class ReportForm(FlaskForm):  # type: ignore[misc]
    """The report's range and grouping, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[DataRequired("Give a start date, like 2026-01-01.")])
    end = DateField("To (inclusive)", validators=[DataRequired("Give an end date.")])
    group = SelectField("Group by", choices=GROUP_CHOICES, default="month")

    def validate_end(self, field: DateField) -> None:
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("The end date is before the start date.")
        if field.data and (field.data < date(2000, 1, 1) or field.data > date(2100, 1, 1)):
            raise ValidationError("Choose a date between 2000 and 2100.")


class ExportForm(ReportForm):
    report = SelectField("Report", choices=EXPORT_CHOICES, default="money")


class SearchForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    q = StringField(
        "Email or name", validators=[Length(max=200, message="Search for at most 200 characters.")]
    )


def _amount_list(raw: str) -> list[int]:
    amounts = []
    for part in raw.replace(";", ",").split(","):
        if part.strip():
            amounts.append(parse_amount_cents(part))
    return amounts


class VariantForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        "Name (for reports)", validators=[DataRequired("Give the variant a name."), Length(max=100)]
    )
    headline = StringField(
        "Headline", validators=[DataRequired("Write a headline."), Length(max=200)]
    )
    body = TextAreaField(
        "Appeal text", validators=[DataRequired("Write the appeal."), Length(max=2000)]
    )
    amounts_once = StringField("One-off amounts, in dollars", validators=[Length(max=200)])
    amounts_monthly = StringField("Monthly amounts, in dollars", validators=[Length(max=200)])
    amounts_annual = StringField("Annual amounts, in dollars", validators=[Length(max=200)])
    default_frequency = SelectField(
        "Frequency shown first",
        choices=[SelectChoice(f.value, f.value.capitalize()) for f in Frequency],
        default=Frequency.ONCE.value,
    )
    weight = IntegerField(
        "Weight (share of readers)",
        default=1,
        validators=[
            InputRequired("Give a weight: 0 to 1000."),
            NumberRange(0, 1000, "Use a weight from 0 to 1000."),
        ],
    )
    active = BooleanField("Running (shown to readers)")

    amounts: dict[str, list[int]]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        self.amounts = {}
        for frequency, field in (
            ("once", self.amounts_once),
            ("monthly", self.amounts_monthly),
            ("annual", self.amounts_annual),
        ):
            try:
                values = _amount_list(field.data or "")
            except ValueError:
                field.errors = [
                    *field.errors,
                    "List amounts in dollars separated by commas, like 1, 5, 10.",
                ]
                ok = False
                continue
            if any(v <= 0 or v > 100_000_00 for v in values) or len(values) > 6:
                field.errors = [
                    *field.errors,
                    "Up to six amounts, each above $0 and at most $100,000.",
                ]
                ok = False
                continue
            if values:
                self.amounts[frequency] = values
        if ok and not self.amounts:
            self.amounts_once.errors = [
                *self.amounts_once.errors,
                "Give at least one set of amounts.",
            ]
            ok = False
        return ok


class ArticleForm(FlaskForm):  # type: ignore[misc]
    title = StringField(
        "Title", validators=[DataRequired("Give the article a title."), Length(max=300)]
    )
    slug = StringField(
        "Address (slug)",
        validators=[
            DataRequired("Give the article an address, like harbour-reopens."),
            Length(max=120),
        ],
    )
    standfirst = StringField("Standfirst", validators=[Length(max=600)])
    author = StringField("Author", validators=[Length(max=200)])
    body = TextAreaField(
        "Body (Markdown)", validators=[Length(max=200_000, message="The body is too long.")]
    )
    status = RadioField(
        "Status",
        choices=[
            SelectChoice(ArticleStatus.DRAFT.value, "Draft"),
            SelectChoice(ArticleStatus.PUBLISHED.value, "Published"),
        ],
        default=ArticleStatus.DRAFT.value,
    )

    def validate_slug(self, field: StringField) -> None:
        field.data = (field.data or "").strip().lower()
        if not SLUG_RE.match(field.data):
            raise ValidationError(
                "Use lower-case letters, digits and single hyphens, like harbour-reopens."
            )

    def validate_status(self, field: RadioField) -> None:
        if field.data not in (ArticleStatus.DRAFT.value, ArticleStatus.PUBLISHED.value):
            raise ValidationError("Choose draft or published.")


class RefundForm(FlaskForm):  # type: ignore[misc]
    amount = StringField(
        "Amount to refund, in dollars",
        validators=[DataRequired("Give the amount to refund."), Length(max=20)],
    )
    reason = SelectField(
        "Reason",
        choices=[
            SelectChoice("requested_by_customer", "The supporter asked"),
            SelectChoice("duplicate", "Paid twice by mistake"),
            SelectChoice("fraudulent", "Fraud (card testing, stolen card)"),
        ],
    )
    # Names this confirmation page: a double submit of it reaches Stripe with one idempotency key.
    nonce = HiddenField(validators=[DataRequired("Reload the page and try again.")])
    confirm = BooleanField(
        "Yes, send this money back through Stripe",
        validators=[DataRequired("Tick the box to confirm the refund.")],
    )

    amount_cents: int = 0

    def validate_nonce(self, field: HiddenField) -> None:
        if not re.fullmatch(r"[0-9a-f]{32}", field.data or ""):
            raise ValidationError("Reload the page and try again.")

    def validate_amount(self, field: StringField) -> None:
        try:
            self.amount_cents = parse_amount_cents(field.data or "")
        except ValueError:
            raise ValidationError("Enter an amount in dollars, like 5 or 12.50.") from None
        if self.amount_cents <= 0:
            raise ValidationError("Refund more than $0.")


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
        if not EMAIL_RE.match((field.data or "").strip()):
            raise ValidationError("Enter an email address like name@example.com.")


class StaffChangeForm(FlaskForm):  # type: ignore[misc]
    role = SelectField(
        "Role", choices=[SelectChoice(r.value, r.value.capitalize()) for r in StaffRole]
    )
    active = BooleanField("May sign in")
