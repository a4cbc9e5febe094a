"""WTForms forms, one module per area; what forms of several areas share lives here."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import ValidationError

from membership.addresses import is_mailable
from membership.currencies import currency_or_default
from membership.formatting import DEFAULT_LOCALE, decimal_amount, format_money

# Whole units with optional thousands commas, then at most three decimals; a symbol may lead.
_AMOUNT_RE = re.compile(
    r"^(?P<symbol>[^\d\s.,-]{1,4})?\s*(?P<number>(\d{1,3}(,\d{3})+|\d+)(\.\d{1,3})?)$"
)


def parse_amount(raw: str, currency: str) -> int:
    """What a person typed, in whole units of `currency`, as Stripe's amount: usd "5" -> 500,
    "12.5" -> 1250, "$1,000.00" -> 100000; jpy "1000" -> 1000; isk "1000" -> 100000.
    Anything Stripe could not charge (such as "12.5" yen) raises ValueError."""
    match = _AMOUNT_RE.match(raw.strip())
    if not match:
        raise ValueError(raw)
    try:
        value = Decimal(match["number"].replace(",", ""))
    except InvalidOperation:
        raise ValueError(raw) from None
    return currency_or_default(currency).amount(value)


def amount_example(currency: str) -> str:
    """How an amount is typed in this currency: "5 or 12.50", "500 or 1,000"."""
    digits = currency_or_default(currency).display_digits
    return f"5 or 12.{'5' + '0' * (digits - 1)}" if digits else "500 or 1,000"


def amount_field_value(cents: int, currency: str) -> str:
    """An amount as the amount fields take it back (`parse_amount`): usd 500 -> "5",
    1250 -> "12.50"; jpy 1000 -> "1000"."""
    text = decimal_amount(cents, currency)
    return text.split(".")[0] if "." in text and not text.split(".")[1].strip("0") else text


def amount_message(currency: str) -> str:
    return f"Enter an amount like {amount_example(currency)}."


class AmountLimits:
    """For forms that take a gift: the configured smallest and largest amounts, one message each."""

    amount_cents: int | None = None

    def __init__(
        self,
        *args: Any,
        min_cents: int,
        max_cents: int,
        currency: str,
        locale: str = DEFAULT_LOCALE,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.min_cents = min_cents
        self.max_cents = max_cents
        self.currency = currency
        self.locale = locale

    def _money(self, cents: int) -> str:
        return format_money(cents, self.currency, locale=self.locale)

    def parse_amount(self, raw: str) -> int:
        """Whole units of the form's currency as Stripe's amount; the message says how to type it."""
        try:
            return parse_amount(raw, self.currency)
        except ValueError:
            raise ValidationError(amount_message(self.currency)) from None

    def accept_amount(self, cents: int) -> None:
        if cents < self.min_cents:
            raise ValidationError(
                f"The smallest gift we can take is {self._money(self.min_cents)}."
            )
        if cents > self.max_cents:
            raise ValidationError(
                f"Online gifts can be up to {self._money(self.max_cents)}. "
                "For a larger gift, please write to us."
            )
        self.amount_cents = cents


def check_email(field: StringField) -> None:
    if not is_mailable(field.data or ""):
        raise ValidationError("Enter your email address, like name@example.com.")


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button and nothing else: the CSRF token is the whole form."""
