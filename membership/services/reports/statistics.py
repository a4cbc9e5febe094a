"""Small arithmetic on integers for the reports: rounding half up, rates, confidence intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal


def divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (both non-negative); 0 when there is nothing."""
    if denominator <= 0:
        return 0
    return (2 * numerator + denominator) // (2 * denominator)


def percent(numerator: int, denominator: int) -> float | None:
    """A rate in percent to one decimal place, or None when the base is zero."""
    if denominator <= 0:
        return None
    return divide_half_up(numerator * 1000, denominator) / 10


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default), in percent; None without data.

    Unlike the textbook p +- z*sqrt(p(1-p)/n) it behaves at 0 and with few trials, which is
    exactly where a small newsroom's banner tests live.
    """
    if trials <= 0:
        return None
    low, high = _wilson_bounds(successes, trials, z)
    return (round(low, 2), round(high, 2))


def _wilson_bounds(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - margin) * 100, min(1.0, centre + margin) * 100


@dataclass(frozen=True)
class RateWithInterval:
    """A rate in percent and its 95% Wilson interval, rounded alike so the figure always reads as
    inside its interval: the figure half up, the interval's ends outwards, all to the same number
    of decimals, the fewest (1 to 3) that keep the interval at least two steps wide (and off zero
    when it is)."""

    rate: Decimal
    low: Decimal
    high: Decimal

    @property
    def text(self) -> str:
        return f"{self.rate}% ({self.low}–{self.high}%)"


def rate_with_interval(successes: int, trials: int) -> RateWithInterval | None:
    if trials <= 0:
        return None
    exact = Decimal(successes) * 100 / Decimal(trials)
    low, high = (Decimal(repr(bound)) for bound in _wilson_bounds(successes, trials))
    for decimals in (1, 2, 3):
        step = Decimal(1).scaleb(-decimals)
        rounded_low = low.quantize(step, rounding=ROUND_FLOOR)
        rounded_high = high.quantize(step, rounding=ROUND_CEILING)
        wide_enough = rounded_high - rounded_low >= 2 * step
        # An interval above zero must not read as starting at zero.
        if (wide_enough and (rounded_low > 0 or low == 0)) or decimals == 3:
            return RateWithInterval(
                exact.quantize(step, rounding=ROUND_HALF_UP), rounded_low, rounded_high
            )
    raise AssertionError("unreachable")  # pragma: no cover


def histogram_median(counts: list[tuple[int, int]]) -> int:
    """The median of a histogram of (value, how many) sorted by value: the mean of the two middle
    values when the count is even, half up. 0 for an empty histogram."""
    n = sum(c for _, c in counts)
    if n == 0:
        return 0

    def nth(k: int) -> int:  # the k-th smallest value, 0-based
        seen = 0
        for value, c in counts:
            seen += c
            if k < seen:
                return value
        raise AssertionError("k out of range")  # pragma: no cover

    return divide_half_up(nth((n - 1) // 2) + nth(n // 2), 2)
