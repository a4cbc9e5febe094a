"""Small arithmetic on integers for the reports: rounding half up, rates, confidence intervals."""

from __future__ import annotations

import math


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
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (round(max(0.0, centre - margin) * 100, 2), round(min(1.0, centre + margin) * 100, 2))


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
