"""What an appeal's copy promises, checked against the amounts its first view offers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from membership.formatting import format_money
from membership.frequency import frequency_words
from membership.models import Frequency

# "$1", "$ 2.50", "$10,000": the amounts a reader reads as gifts they could make.
_PROMISE = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?(?!\d)")


def promised_amounts(text: str) -> list[int]:
    """Every dollar amount in the text, in cents."""
    amounts = []
    for match in _PROMISE.finditer(text):
        whole = int(match.group(1).replace(",", ""))
        amounts.append(whole * 100 + int(match.group(2) or 0))
    return amounts


def copy_promise_problem(
    copy: str, amounts: Mapping[str, Sequence[int]], first_frequency: Frequency
) -> str | None:
    """Why the first view would contradict the copy ("as little as $1" above $3/$5/$10 a month),
    or None. The first view shows the presets of the first frequency; its smallest must not be
    above the smallest amount the copy names."""
    first_view = list(amounts.get(first_frequency.value, []))
    promised = promised_amounts(copy)
    if not promised:
        return None
    if not first_view:
        return (
            f"The copy names {format_money(min(promised))}, but the first view shows "
            f"{first_frequency.value} amounts and none are set: give {first_frequency.value} "
            "amounts or choose another frequency shown first."
        )
    if min(first_view) <= min(promised):
        return None
    words = frequency_words(first_frequency)
    return (
        f"The copy promises {format_money(min(promised))}, but the first view "
        f"({first_frequency.value}) starts at {format_money(min(first_view))}"
        f"{' ' + words.per if words.per else ''}. Add {format_money(min(promised))} to the "
        f"{first_frequency.value} amounts, show another frequency first, or change the copy."
    )
