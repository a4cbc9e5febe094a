"""WTForms forms, one module per area; what forms of several areas share lives here."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import ValidationError

from membership.addresses import EMAIL_RE
from membership.formatting import format_money

_AMOUNT_RE = re.compile(r"^\$?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")


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


def check_email(field: StringField) -> None:
    if not EMAIL_RE.match((field.data or "").strip()):
        raise ValidationError("Enter your email address, like name@example.com.")


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button and nothing else: the CSRF token is the whole form."""
