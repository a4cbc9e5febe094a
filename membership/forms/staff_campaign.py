"""The staff form for a fundraising campaign."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from membership.forms import amount_field_value, parse_amount
from membership.forms.staff import PresetAmounts, listed_amounts
from membership.models import Campaign, Frequency
from membership.services.campaigns import CampaignChange

CAMPAIGN_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class CampaignForm(PresetAmounts, FlaskForm):  # type: ignore[misc]
    name = StringField("Name (for reports)", validators=[DataRequired("Name it."), Length(max=100)])
    slug = StringField(
        "Address: /support/…",
        validators=[DataRequired("Give the landing page an address."), Length(max=80)],
    )
    headline = StringField(
        "Headline", validators=[DataRequired("Write a headline."), Length(max=200)]
    )
    body = TextAreaField(
        "Appeal text", validators=[DataRequired("Write the appeal."), Length(max=2000)]
    )
    starts = DateField("First day", validators=[DataRequired("Give the first day.")])
    ends = DateField("Last day", validators=[DataRequired("Give the last day.")])
    goal = StringField("Goal amount (optional)", validators=[Length(max=20)])
    goal_supporters = IntegerField(
        "Goal, in new supporters (optional)",
        validators=[Optional(), NumberRange(1, 1_000_000, "Use a number from 1 to 1,000,000.")],
    )
    matching_text = StringField(
        "Matching-gift line (optional), like “Every gift is doubled up to $10,000 by …”",
        validators=[Length(max=300)],
    )
    matching_cap = StringField("Matching cap", validators=[Length(max=20)])

    goal_cents: int | None
    matching_cap_cents: int | None

    @classmethod
    def of_campaign(cls, campaign: Campaign | None, currency: str, zone: ZoneInfo) -> CampaignForm:
        if campaign is None:
            return cls(formdata=None, currency=currency)

        def dollars(cents: int | None) -> str:
            return amount_field_value(cents, currency) if cents else ""

        data: dict[str, Any] = {
            "name": campaign.name,
            "slug": campaign.slug,
            "headline": campaign.headline,
            "body": campaign.body,
            "starts": campaign.starts_at.astimezone(zone).date(),
            # Stored as the midnight after the last day.
            "ends": campaign.ends_at.astimezone(zone).date() - timedelta(days=1),
            "goal": dollars(campaign.goal_cents),
            "goal_supporters": campaign.goal_supporters,
            "matching_text": campaign.matching_text,
            "matching_cap": dollars(campaign.matching_cap_cents),
            "default_frequency": campaign.default_frequency.value,
            **{
                f"amounts_{f.value}": listed_amounts(campaign.amounts_for(f), currency)
                for f in Frequency
            },
        }
        return cls(data=data, formdata=None, currency=currency)

    def _money(self, field: StringField) -> int | None:
        raw = (field.data or "").strip()
        if not raw:
            return None
        try:
            cents = parse_amount(raw, self.currency)
        except ValueError:
            field.errors = [*field.errors, "Enter an amount in dollars, like 500 or 10000."]
            return None
        if cents <= 0:
            field.errors = [*field.errors, "Enter an amount above $0."]
            return None
        return cents

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        ok = self.validate_presets() and ok
        self.goal_cents = self._money(self.goal)
        self.matching_cap_cents = self._money(self.matching_cap)
        if self.goal.errors or self.matching_cap.errors:
            ok = False
        if self.slug.data and not CAMPAIGN_SLUG_RE.match(self.slug.data.strip()):
            self.slug.errors = [*self.slug.errors, "Use lower-case letters, digits and dashes."]
            ok = False
        if self.starts.data and self.ends.data and self.ends.data < self.starts.data:
            self.ends.errors = [*self.ends.errors, "The last day cannot be before the first."]
            ok = False
        return ok

    def change(self, zone: ZoneInfo) -> CampaignChange:
        """What a valid form asks to save: local days from midnight to the midnight after."""
        starts = datetime.combine(self.starts.data, time(0), zone)
        ends = datetime.combine(self.ends.data + timedelta(days=1), time(0), zone)
        return CampaignChange(
            slug=self.slug.data.strip(),
            name=self.name.data.strip(),
            headline=self.headline.data.strip(),
            body=self.body.data.strip(),
            amounts=self.amounts,
            default_frequency=Frequency(self.default_frequency.data),
            starts_at=starts,
            ends_at=ends,
            goal_cents=self.goal_cents,
            goal_supporters=self.goal_supporters.data,
            matching_text=(self.matching_text.data or "").strip(),
            matching_cap_cents=self.matching_cap_cents,
        )
