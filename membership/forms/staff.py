"""WTForms forms of the staff area: one class per form, validated on the server with plain messages."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import date
from typing import Any, Self

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
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from membership.currencies import currency_or_default
from membership.dates import first_of_month
from membership.formatting import decimal_amount, format_money
from membership.forms import amount_example, amount_field_value, amount_message, parse_amount
from membership.models import (
    Article,
    ArticleStatus,
    BannerVariant,
    Frequency,
    Placement,
)
from membership.services.articles import SLUG_RE, ArticleDraft
from membership.services.reports.exports import EXPORTS
from membership.services.reports.periods import GROUPINGS
from membership.services.reports.range_report import ReportRequest
from membership.services.staff.banner_variants import VariantChange

GROUP_CHOICES = [SelectChoice(grouping, grouping.capitalize()) for grouping in GROUPINGS]
EXPORT_CHOICES = [SelectChoice(kind, label) for kind, label in EXPORTS.items()]


# Reports cover these dates: outside them a local midnight may not exist as a UTC instant.
FIRST_REPORT_DAY, LAST_REPORT_DAY = date(2000, 1, 1), date(2100, 1, 1)


def _within_report_years(field: DateField) -> None:
    if field.data and not FIRST_REPORT_DAY <= field.data <= LAST_REPORT_DAY:
        raise ValidationError(
            f"Choose a date between {FIRST_REPORT_DAY.isoformat()} and {LAST_REPORT_DAY.isoformat()}."
        )


class ReportForm(FlaskForm):  # type: ignore[misc]
    """The report's range and grouping, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[DataRequired("Give a start date, like 2026-01-01.")])
    end = DateField("To (inclusive)", validators=[DataRequired("Give an end date.")])
    group = SelectField("Group by", choices=GROUP_CHOICES, default="month")

    @classmethod
    def from_query(cls, args: Mapping[str, str], today: date) -> Self:
        """The range asked for in the query string; without one, the last twelve months by month."""
        if not args:
            data = {"start": first_of_month(today, -11), "end": today, "group": "month"}
            return cls(data=data, formdata=None)
        return cls(args)

    def validate_start(self, field: DateField) -> None:
        _within_report_years(field)

    def validate_end(self, field: DateField) -> None:
        _within_report_years(field)
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("The end date is before the start date.")

    def report_request(self) -> ReportRequest:
        """What a valid form asks for."""
        return ReportRequest(self.start.data, self.end.data, self.group.data)

    def query(self) -> dict[str, str]:
        """The range as query arguments, for links to the same range (the CSV downloads)."""
        return {
            "start": self.start.data.isoformat(),
            "end": self.end.data.isoformat(),
            "group": self.group.data,
        }


class ExportForm(ReportForm):
    report = SelectField("Report", choices=EXPORT_CHOICES, default="money")


class SearchForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    q = StringField(
        "Email or name", validators=[Length(max=200, message="Search for at most 200 characters.")]
    )


def _amount_list(raw: str, currency: str) -> list[int]:
    amounts = []
    for part in raw.replace(";", ",").split(","):
        if part.strip():
            amounts.append(parse_amount(part, currency))
    return amounts


class CurrencyForm(FlaskForm):  # type: ignore[misc]
    """A form whose amounts are typed in whole units of one currency."""

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency


def listed_amounts(amounts: list[int], currency: str) -> str:
    """Saved presets as the form shows them: "1, 5, 7.50"."""
    return ", ".join(amount_field_value(c, currency) for c in amounts)


class PresetAmounts(CurrencyForm):
    """The preset amounts per frequency and the frequency shown first, shared by banner variants
    and campaigns; `validate_presets` fills `amounts` in minor units."""

    amounts_once = StringField("One-off amounts", validators=[Length(max=200)])
    amounts_monthly = StringField("Monthly amounts", validators=[Length(max=200)])
    amounts_annual = StringField("Annual amounts", validators=[Length(max=200)])
    default_frequency = SelectField(
        "Frequency shown first",
        choices=[SelectChoice(f.value, f.value.capitalize()) for f in Frequency],
        default=Frequency.ONCE.value,
    )

    amounts: dict[str, list[int]]

    def validate_presets(self) -> bool:
        ok = True
        self.amounts = {}
        for frequency in Frequency:
            field = getattr(self, f"amounts_{frequency.value}")
            try:
                values = _amount_list(field.data or "", self.currency)
            except ValueError:
                field.errors = [
                    *field.errors,
                    f"List amounts separated by commas, each {amount_example(self.currency)}.",
                ]
                ok = False
                continue
            largest = 100_000 * currency_or_default(self.currency).per_unit
            if any(v <= 0 or v > largest for v in values) or len(values) > 6:
                field.errors = [
                    *field.errors,
                    "Up to six amounts, each above 0 and at most "
                    f"{format_money(largest, self.currency)}.",
                ]
                ok = False
                continue
            if values:
                self.amounts[frequency.value] = values
        if ok and not self.amounts:
            self.amounts_once.errors = [
                *self.amounts_once.errors,
                "Give at least one set of amounts.",
            ]
            ok = False
        return ok


class VariantForm(PresetAmounts):
    name = StringField(
        "Name (for reports)", validators=[DataRequired("Give the variant a name."), Length(max=100)]
    )
    headline = StringField(
        "Headline", validators=[DataRequired("Write a headline."), Length(max=200)]
    )
    body = TextAreaField(
        "Appeal text", validators=[DataRequired("Write the appeal."), Length(max=2000)]
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
    placement = SelectField(
        "Where it appears",
        choices=[
            SelectChoice(Placement.ARTICLE.value, "At the end of articles"),
            SelectChoice(Placement.FRONT.value, "Slim banner on the front page"),
            SelectChoice(Placement.STICKY.value, "Sticky bottom banner after a number of articles"),
        ],
        default=Placement.ARTICLE.value,
    )
    article_count_threshold = IntegerField(
        "Article count: mention “You've read N articles this month” from this many articles "
        "(sticky banners: appear from this article on); empty for never",
        validators=[
            Optional(),
            NumberRange(1, 100, "Use a number from 1 to 100, or leave it empty."),
        ],
    )

    @classmethod
    def of_variant(cls, variant: BannerVariant | None, currency: str) -> VariantForm:
        """The form filled from a saved variant (or the defaults of a new one)."""
        if variant is None:
            return cls(data={"weight": 1, "active": False}, formdata=None, currency=currency)

        def listed(frequency: Frequency) -> str:
            return listed_amounts(variant.amounts_for(frequency), currency)

        data = {
            "name": variant.name,
            "headline": variant.headline,
            "body": variant.body,
            "amounts_once": listed(Frequency.ONCE),
            "amounts_monthly": listed(Frequency.MONTHLY),
            "amounts_annual": listed(Frequency.ANNUAL),
            "default_frequency": variant.default_frequency.value,
            "weight": variant.weight,
            "active": variant.active,
            "placement": variant.placement.value,
            "article_count_threshold": variant.article_count_threshold,
        }
        return cls(data=data, formdata=None, currency=currency)

    def change(self) -> VariantChange:
        """What a valid form asks to save."""
        return VariantChange(
            name=self.name.data.strip(),
            headline=self.headline.data.strip(),
            body=self.body.data.strip(),
            amounts=self.amounts,
            default_frequency=Frequency(self.default_frequency.data),
            weight=int(self.weight.data),
            active=bool(self.active.data),
            placement=Placement(self.placement.data),
            article_count_threshold=self.article_count_threshold.data,
        )

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        return self.validate_presets() and ok


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

    @classmethod
    def of_article(cls, article: Article | None) -> ArticleForm:
        """The form filled from a saved article (or empty for a new one)."""
        if article is None:
            return cls(data={}, formdata=None)
        data = {
            "title": article.title,
            "slug": article.slug,
            "standfirst": article.standfirst,
            "author": article.author,
            "body": article.body_markdown,
            "status": article.status.value,
        }
        return cls(data=data, formdata=None)

    def draft(self) -> ArticleDraft:
        """What a valid form asks to save."""
        return ArticleDraft(
            slug=self.slug.data,
            title=self.title.data,
            body_markdown=self.body.data or "",
            standfirst=self.standfirst.data or "",
            author=self.author.data or "",
            status=ArticleStatus(self.status.data),
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


class RefundForm(CurrencyForm):
    amount = StringField(
        "Amount to refund",
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

    @classmethod
    def offering(cls, available_cents: int, currency: str) -> RefundForm:
        """A new confirmation page: all that is left offered, and a nonce of its own."""
        data = {"amount": decimal_amount(available_cents, currency), "nonce": secrets.token_hex(16)}
        return cls(data=data, formdata=None, currency=currency)

    def validate_nonce(self, field: HiddenField) -> None:
        if not re.fullmatch(r"[0-9a-f]{32}", field.data or ""):
            raise ValidationError("Reload the page and try again.")

    def validate_amount(self, field: StringField) -> None:
        try:
            self.amount_cents = parse_amount(field.data or "", self.currency)
        except ValueError:
            raise ValidationError(amount_message(self.currency)) from None
        if self.amount_cents <= 0:
            raise ValidationError("Refund more than 0.")
