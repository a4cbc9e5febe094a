"""How often a gift recurs: the form's choice, Stripe's billing interval, and the words people read."""

from __future__ import annotations

from dataclasses import dataclass

from membership.models import BillingInterval, DonationKind, Frequency

INTERVAL_OF = {Frequency.MONTHLY: BillingInterval.MONTH, Frequency.ANNUAL: BillingInterval.YEAR}
FREQUENCY_OF = {interval: frequency for frequency, interval in INTERVAL_OF.items()}


@dataclass(frozen=True)
class FrequencyWords:
    label: str  # "Monthly": a column or a heading
    gift: str  # "monthly gift": in a sentence
    per: str  # "a month": after an amount ("$5 a month"); empty for one-off gifts
    each: str  # "each month": after "Amount"; empty for one-off gifts
    every: str  # "every month": after a total ("Total: $5 every month"); empty for one-off gifts


_WORDS = {
    Frequency.ONCE: FrequencyWords("One-off", "one-off gift", "", "", ""),
    Frequency.MONTHLY: FrequencyWords(
        "Monthly", "monthly gift", "a month", "each month", "every month"
    ),
    Frequency.ANNUAL: FrequencyWords("Annual", "annual gift", "a year", "each year", "every year"),
}


def frequency_words(frequency: Frequency | str) -> FrequencyWords:
    """The words for a frequency; an unknown value reads as a one-off gift."""
    try:
        return _WORDS[Frequency(frequency)]
    except ValueError:
        return _WORDS[Frequency.ONCE]


def frequency_of(kind: DonationKind, interval: BillingInterval | None) -> Frequency:
    """A donation's frequency from its kind and, for recurring gifts, its subscription's interval."""
    if kind is DonationKind.ONE_OFF or interval is None:
        return Frequency.ONCE
    return FREQUENCY_OF[interval]
