"""Showing money and dates to people: integers of minor units in, text out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}
# Currencies whose minor unit is not a hundredth (Stripe's zero-decimal currencies we may meet).
_ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "pyg", "ugx", "xaf", "xof", "isk", "huf"}


def minor_units(currency: str) -> int:
    return 1 if currency.lower() in _ZERO_DECIMAL else 100


def format_money(cents: int, currency: str = "usd", *, always_cents: bool = False) -> str:
    """500 -> "$5", 550 -> "$5.50", with always_cents 500 -> "$5.00"."""
    currency = currency.lower()
    symbol = _SYMBOLS.get(currency, currency.upper() + " ")
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    unit = minor_units(currency)
    if unit == 1:
        return f"{sign}{symbol}{cents:,}"
    whole, rest = divmod(cents, unit)
    if rest or always_cents:
        return f"{sign}{symbol}{whole:,}.{rest:02d}"
    return f"{sign}{symbol}{whole:,}"


def decimal_amount(cents: int, currency: str) -> str:
    """Minor units as a plain decimal for files (CSV): 1050 -> "10.50", yen 1000 -> "1000"."""
    unit = minor_units(currency)
    if unit == 1:
        return str(cents)
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), unit)
    return f"{sign}{whole}.{rest:02d}"


def format_date(when: datetime | None, zone: ZoneInfo) -> str:
    if when is None:
        return ""
    local = when.astimezone(zone)
    return f"{local.day} {local:%B %Y}"


def format_datetime(when: datetime | None, zone: ZoneInfo) -> str:
    """A moment as the newsroom's clock shows it: "1 March 2027, 07:00 (Europe/Lisbon)"."""
    if when is None:
        return ""
    local = when.astimezone(zone)
    return f"{format_date(when, zone)}, {local:%H:%M} ({zone.key})"
