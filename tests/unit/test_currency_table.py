"""The one currency table (Stripe's documented rules) and what reads it: parsing what a person
types, the card-fee gross-up, money shown with Babel in a locale, CSV decimals, the stand-in."""

from __future__ import annotations

import pytest

from membership.currencies import (
    SPECIAL_CASES,
    THREE_DECIMAL,
    ZERO_DECIMAL,
    UnknownCurrency,
    currency,
)
from membership.formatting import currency_words, decimal_amount, format_money
from membership.forms import parse_amount
from membership.services.checkout import processing_fee
from stripe_standin.errors import StripeError
from stripe_standin.money import check_amount, format_amount, supported_currency


def test_the_zero_decimal_list_is_stripes() -> None:
    # The old list held ISK and HUF (special cases) and missed these.
    for code in ("bif", "djf", "gnf", "kmf", "mga", "rwf", "vuv", "xpf", "jpy", "krw", "ugx"):
        assert code in ZERO_DECIMAL and currency(code).exponent == 0
    assert "isk" not in ZERO_DECIMAL and "huf" not in ZERO_DECIMAL
    assert set(SPECIAL_CASES) == {"isk", "huf", "twd", "ugx"}


def test_special_cases_and_three_decimal_currencies() -> None:
    isk = currency("ISK")
    assert (isk.exponent, isk.step, isk.display_digits) == (2, 100, 0)
    assert (currency("huf").exponent, currency("twd").exponent) == (2, 2)
    for code in THREE_DECIMAL:
        assert (currency(code).exponent, currency(code).step) == (3, 10)
    with pytest.raises(UnknownCurrency):
        currency("xyz")


@pytest.mark.parametrize(
    ("typed", "code", "amount"),
    [
        ("1", "usd", 100),
        ("12.50", "eur", 1250),
        ("1000", "jpy", 1000),
        ("1,000", "jpy", 1000),
        ("1000", "isk", 100000),
        ("5.12", "kwd", 5120),
    ],
)
def test_typed_amounts_become_stripe_amounts(typed: str, code: str, amount: int) -> None:
    assert parse_amount(typed, code) == amount


@pytest.mark.parametrize(("typed", "code"), [("12.5", "jpy"), ("1.5", "isk"), ("5.125", "kwd")])
def test_amounts_stripe_cannot_charge_are_refused(typed: str, code: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(typed, code)


@pytest.mark.parametrize(
    ("amount", "code", "locale", "shown"),
    [
        (100, "usd", "en_US", "$1"),
        (1050, "usd", "en_US", "$10.50"),
        (1050, "eur", "de_DE", "10,50\xa0€"),
        (1000, "jpy", "en_US", "¥1,000"),
        (100000, "isk", "en_US", "ISK1,000"),
        (150000, "isk", "is_IS", "1.500\xa0kr."),
    ],
)
def test_money_is_shown_with_babel_in_the_locale(
    amount: int, code: str, locale: str, shown: str
) -> None:
    assert format_money(amount, code, locale=locale) == shown


def test_huge_amounts_are_shown_not_refused() -> None:
    # A hand-made link can ask the form for any amount; Babel must not fail on its precision.
    assert format_money(10**40 + 75, "usd").endswith(",000.75")


def test_receipts_show_the_decimals_the_currency_has() -> None:
    assert format_money(500, "usd", always_cents=True) == "$5.00"
    assert format_money(500, "jpy", always_cents=True) == "¥500"
    assert format_money(50000, "isk", always_cents=True) == "ISK500"


def test_csv_decimals_follow_the_table() -> None:
    assert [decimal_amount(a, c) for a, c in [(1050, "usd"), (1000, "jpy"), (100000, "isk")]] == [
        "10.50",
        "1000",
        "1000",
    ]
    assert currency_words("jpy") == "Japanese yen"


@pytest.mark.parametrize(
    ("gift", "code", "fee"),
    # 2.9% + 30 minor units, grossed up, then rounded up to what the currency can charge.
    [(100, "usd", 34), (1000, "jpy", 61), (14000, "isk", 500)],
)
def test_the_card_fee_is_a_chargeable_amount(gift: int, code: str, fee: int) -> None:
    assert processing_fee(gift, 2.9, 30, code) == fee
    assert currency(code).chargeable(gift + fee)


def test_the_stand_in_uses_the_same_table() -> None:
    assert format_amount(100000, "isk") == "1,000 ISK"
    assert format_amount(500, "jpy") == "500 JPY"
    assert supported_currency("JPY", "currency") == "jpy"
    with pytest.raises(StripeError, match="Invalid currency"):
        supported_currency("xyz", "currency")
    with pytest.raises(StripeError, match="multiple of 100"):
        check_amount(150, "isk", "unit_amount")


def test_any_integer_a_request_can_carry_is_shown_without_error() -> None:
    """A query string's 28-digit amount once raised decimal.InvalidOperation inside Babel (a 500)."""
    assert (
        format_money(9709999999999999999999999975, "usd")
        == "$97,099,999,999,999,999,999,999,999.75"
    )
    assert format_money(10**40, "jpy").startswith("¥10,000,000,000")
