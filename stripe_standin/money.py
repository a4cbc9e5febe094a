"""Amounts in minor units: Stripe's checks on them, and shown as text (hosted pages, invoice lines,
error messages). How many minor units make a unit is the app's one table (membership.currencies),
taken from Stripe's documentation."""

from __future__ import annotations

from membership.currencies import UnknownCurrency, currency, currency_or_default
from stripe_standin.errors import StripeError

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "chf": "CHF "}


def supported_currency(code: str, param: str) -> str:
    """The lower-cased code, or Stripe's refusal of a currency it does not charge in."""
    try:
        return currency(code).code
    except UnknownCurrency:
        raise StripeError(f"Invalid currency: {code.lower()}.", param=param) from None


def check_amount(amount: int, code: str, param: str) -> int:
    """Stripe refuses amounts a currency cannot be charged in: ISK in hundredths that are not
    00, three-decimal currencies whose last digit is not 0."""
    table = currency_or_default(code)
    if amount % table.step:
        raise StripeError(
            f"Invalid {param}: {table.code.upper()} amounts must be a multiple of {table.step}.",
            param=param,
        )
    return amount


def format_amount(amount: int, code: str) -> str:
    table = currency_or_default(code)
    digits = table.display_digits
    number = f"{table.units(amount):,.{digits}f}"
    symbol = SYMBOLS.get(table.code)
    return f"{symbol}{number}" if symbol else f"{number} {table.code.upper()}"
