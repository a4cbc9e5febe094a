"""The banner experiment's verdict in plain words: which variant raises more per 1,000 readers,
and whether the data is enough to say so with 95% confidence."""

from __future__ import annotations

import math
from collections.abc import Sequence

from membership.formatting import format_money
from membership.services.reports.attribution import FunnelRow

Z_95 = 1.96  # two-sided 95%
Z_POWER = 0.84  # 80% power, for "how many more impressions"


def _mean_and_variance(row: FunnelRow) -> tuple[float, float]:
    """Revenue per impression (minor units) and its variance: most impressions bring nothing,
    a few bring a gift, so the spread comes from the payments' squares."""
    n = row.impressions
    mean = row.revenue / n
    return mean, max(0.0, row.revenue_squares / n - mean * mean)


def _about(n: float) -> str:
    """A count rounded to two significant figures: "about 4,300"."""
    if n < 100:
        return f"{math.ceil(n):,}"
    digits = int(math.floor(math.log10(n))) - 1
    return f"{round(n, -digits):,.0f}"


def experiment_verdict(rows: Sequence[FunnelRow], currency: str = "usd") -> str:
    """Compare the variant that raises most per impression with the runner-up (Welch's z-test on
    revenue per impression)."""
    arms = sorted(
        (r for r in rows if r.key is not None and r.impressions > 0),
        key=lambda r: (-r.revenue / r.impressions, r.name),
    )
    if len(arms) < 2:
        return "Run at least two variants with impressions to compare them."
    best, other = arms[0], arms[1]
    (m_best, v_best), (m_other, v_other) = _mean_and_variance(best), _mean_and_variance(other)
    per_thousand = (
        f"{format_money(round(m_best * 1000), currency)} against "
        f"{format_money(round(m_other * 1000), currency)} per 1,000 readers"
    )
    difference = m_best - m_other
    if difference <= 0 or v_best + v_other == 0:
        return (
            f"Not enough data yet: {best.name} and {other.name} raise the same so far "
            f"({per_thousand}). Keep both running."
        )
    spread = math.sqrt(v_best / best.impressions + v_other / other.impressions)
    if difference / spread >= Z_95:
        return (
            f"{best.name} raises more per 1,000 readers than {other.name} ({per_thousand}); "
            "95% confident."
        )
    needed_per_arm = (Z_95 + Z_POWER) ** 2 * (v_best + v_other) / difference**2
    more = max(0.0, needed_per_arm - min(best.impressions, other.impressions)) * 2
    return (
        f"Not enough data yet: {best.name} is ahead ({per_thousand}), but about "
        f"{_about(more)} more impressions are needed to be 95% confident."
    )
