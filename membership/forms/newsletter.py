"""The reader's newsletter sign-up and confirmation forms."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    StringField,
)
from wtforms.validators import Length, ValidationError

from membership.addresses import address_problem


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
