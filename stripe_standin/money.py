"""Amounts in minor units shown as text (hosted pages, invoice lines, error messages)."""

from __future__ import annotations

ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd"}
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "chf": "CHF "}


def format_amount(amount: int, currency: str) -> str:
    cur = currency.lower()
    number = f"{amount:,}" if cur in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = SYMBOLS.get(cur)
    return f"{symbol}{number}" if symbol else f"{number} {cur.upper()}"
