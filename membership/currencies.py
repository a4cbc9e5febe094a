"""The currencies Stripe charges in and how it counts their amounts: one table for the whole
app (forms, formatting, refunds, reports) and for the Stripe stand-in.

Built from Stripe's "Supported currencies" page (docs.stripe.com/currencies). Stripe's amounts
are integers in the currency's smallest unit, but "smallest unit" is Stripe's, not ISO 4217's:
- zero-decimal currencies are sent as whole units (500 is ¥500);
- three-decimal currencies are sent in thousandths, and the last digit must be 0 (5.124 KWD
  is refused: send 5120 or 5130);
- special cases: ISK is zero-decimal but, for backwards compatibility, is sent as a two-decimal
  amount whose decimals are always 00 (500 is 5 ISK); HUF and TWD are charged as two-decimal
  amounts but paid out as whole units; UGX is charged as zero-decimal but its payouts are sent
  as two-decimal amounts divisible by 100.
Every other supported currency is two-decimal. Standard library only: the stand-in imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


ZERO_DECIMAL = _codes("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf")
THREE_DECIMAL = _codes("bhd jod kwd omr tnd")
# Sent with two decimals that must be 00: the amount is whole units times 100.
WHOLE_UNITS_AS_HUNDREDTHS = frozenset({"isk"})
# Stripe's documented special cases, and what is special about each.
SPECIAL_CASES = {
    "isk": "zero-decimal, sent as a two-decimal amount ending in 00 (500 is 5 ISK)",
    "huf": "charged in two decimals, paid out in whole forints (payouts divisible by 100)",
    "twd": "charged in two decimals, paid out in whole dollars (payouts divisible by 100)",
    "ugx": "charged as zero-decimal; payouts are sent as two-decimal amounts divisible by 100",
}

# Stripe's presentment currencies (card payments).
SUPPORTED = _codes(
    """
    aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp
    byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel
    gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd
    kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn
    nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd
    shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx usd uyu uzs vnd vuv wst
    xaf xcd xof xpf yer zar zmw
    """
)


class UnknownCurrency(ValueError):
    """A currency code Stripe does not charge in."""


@dataclass(frozen=True)
class Currency:
    """How Stripe counts one currency's amounts."""

    code: str  # lower case, as Stripe's API wants it
    exponent: int  # API amount = units × 10**exponent (0, 2 or 3)
    step: int  # every API amount is a multiple of this (ISK 100, three-decimal 10, else 1)

    @property
    def display_digits(self) -> int:
        """Decimal places a person sees: none for ISK, whose hundredths are always 00."""
        return 0 if self.step == self.per_unit else self.exponent

    @property
    def per_unit(self) -> int:
        """API amount of one whole unit (1 USD = 100, 1 JPY = 1, 1 ISK = 100, 1 KWD = 1000)."""
        return int(10**self.exponent)

    def units(self, amount: int) -> Decimal:
        """An API amount as a decimal number of whole units: 1050 usd -> 10.50."""
        return Decimal(amount).scaleb(-self.exponent)

    def amount(self, units: Decimal) -> int:
        """Whole units (as a person typed them) as an API amount; ValueError when Stripe could
        not charge it (too many decimals, or a last digit that must be 0)."""
        scaled = units.scaleb(self.exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{units} has too many decimal places for {self.code.upper()}")
        amount = int(scaled)
        if amount % self.step:
            raise ValueError(f"{units} is not an amount {self.code.upper()} can be charged in")
        return amount

    def chargeable(self, amount: int) -> bool:
        return amount > 0 and amount % self.step == 0

    def round_up(self, amount: int) -> int:
        """The smallest chargeable amount not below `amount`."""
        return int((Decimal(amount) / self.step).to_integral_value(rounding=ROUND_CEILING)) * (
            self.step
        )


def currency(code: str) -> Currency:
    """The table's entry for a currency code (any case); `UnknownCurrency` if Stripe has none."""
    key = code.strip().lower()
    if key not in SUPPORTED:
        raise UnknownCurrency(code)
    if key in ZERO_DECIMAL:
        return Currency(key, 0, 1)
    if key in THREE_DECIMAL:
        return Currency(key, 3, 10)
    if key in WHOLE_UNITS_AS_HUNDREDTHS:
        return Currency(key, 2, 100)
    return Currency(key, 2, 1)


def currency_or_default(code: str) -> Currency:
    """For rows already stored: an unknown code is read as a two-decimal currency."""
    try:
        return currency(code)
    except UnknownCurrency:
        return Currency(code.strip().lower(), 2, 1)
