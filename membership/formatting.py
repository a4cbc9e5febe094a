"""Showing money and dates to people: integers of minor units in, text out.

Amounts are shown with Babel in the configured `LOCALE` (symbols, grouping, decimals); how many
minor units make a unit comes from Stripe's table in `membership.currencies`.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import localcontext
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_currency, get_currency_name

from membership.currencies import currency_or_default

DEFAULT_LOCALE = "en_US"
_FRACTION = re.compile(r"0\.0+")


@lru_cache(maxsize=64)
def _pattern(locale: str, digits: int) -> str:
    """The locale's currency pattern with exactly `digits` decimal places."""
    standard = Locale.parse(locale).currency_formats["standard"].pattern
    return _FRACTION.sub("0." + "0" * digits if digits else "0", standard)


def format_money(
    cents: int, currency: str = "usd", *, locale: str = DEFAULT_LOCALE, always_cents: bool = False
) -> str:
    """500 usd -> "$5", 550 -> "$5.50", with always_cents 500 -> "$5.00"; 1000 jpy -> "¥1,000"."""
    table = currency_or_default(currency)
    # Enough precision for any integer a request can carry (the default context stops at 28 digits).
    with localcontext() as context:
        context.prec = max(28, len(str(abs(cents))) + 8)
        units = table.units(cents)
        digits = table.display_digits
        if not always_cents and units == units.to_integral_value():
            digits = 0
        return format_currency(
            units,
            table.code.upper(),
            format=_pattern(locale, digits),
            locale=locale,
            currency_digits=False,
        )


def currency_words(currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """What amounts are typed in, for labels: "US dollars", "Japanese yen", "euros"."""
    return str(get_currency_name(currency.upper(), count=2, locale=locale))


def decimal_amount(cents: int, currency: str) -> str:
    """Minor units as a plain decimal for files (CSV): 1050 usd -> "10.50", 1000 jpy -> "1000",
    100000 isk -> "1000"."""
    table = currency_or_default(currency)
    return f"{table.units(cents):.{table.display_digits}f}"


def format_date(when: datetime | None, zone: ZoneInfo) -> str:
    if when is None:
        return ""
    local = when.astimezone(zone)
    return f"{local.day} {local:%B %Y}"
