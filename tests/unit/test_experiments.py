"""The banner experiment's plain-language verdict."""

from __future__ import annotations

from membership.services.reports.attribution import FunnelRow
from membership.services.reports.experiments import experiment_verdict


def arm(key: int, name: str, impressions: int, gifts: int, gift_cents: int = 500) -> FunnelRow:
    return FunnelRow(
        key=key,
        name=name,
        impressions=impressions,
        donations=gifts,
        payments=gifts,
        revenue=gifts * gift_cents,
        revenue_squares=gifts * gift_cents * gift_cents,
    )


def test_a_clear_winner_is_named_with_its_confidence() -> None:
    verdict = experiment_verdict([arm(1, "A", 100_000, 100), arm(2, "B", 100_000, 200)])
    assert verdict == (
        "B raises more per 1,000 readers than A ($10 against $5 per 1,000 readers); 95% confident."
    )


def test_too_little_data_says_how_much_more_is_needed() -> None:
    verdict = experiment_verdict([arm(1, "A", 1000, 1), arm(2, "B", 1000, 2)])
    assert verdict.startswith("Not enough data yet: B is ahead ($10 against $5 per 1,000")
    assert "about 45,000 more impressions are needed to be 95% confident." in verdict


def test_no_difference_and_no_rivals() -> None:
    assert "raise the same so far" in experiment_verdict([arm(1, "A", 10, 0), arm(2, "B", 10, 0)])
    assert experiment_verdict([arm(1, "A", 10, 0)]).startswith("Run at least two variants")
    # The support page's row (no variant) is not an arm of the experiment.
    assert experiment_verdict([arm(1, "A", 10, 0), FunnelRow(key=None, name="No banner")]) == (
        "Run at least two variants with impressions to compare them."
    )
