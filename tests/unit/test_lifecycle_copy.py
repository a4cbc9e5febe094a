"""Lifecycle copy without an app: placeholders checked and filled, shipped copy valid, the
suggested monthly amount, and signed links that refuse tampering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from membership.config import Config
from membership.emails.lifecycle import LifecycleCopy, fill, lifecycle_email
from membership.services.lifecycle.jobs import suggested_monthly_cents
from membership.services.lifecycle.kinds import KINDS
from membership.services.lifecycle.links import (
    read_tracked_link,
    read_unsubscribe_link,
    tracked_link,
    unsubscribe_link,
)
from membership.services.lifecycle.reader_links import GROUP_TITLES
from membership.services.lifecycle.settings import TemplateError, check_copy, unknown_placeholders


def test_every_shipped_copy_uses_only_its_own_placeholders_and_every_group_has_words() -> None:
    for kind in KINDS.values():
        check_copy(kind, kind.subject, kind.body)
        assert set(kind.sample) <= set(kind.allowed), kind.name
    groups = {kind.group for kind in KINDS.values() if not kind.for_subscribers}
    assert groups == set(GROUP_TITLES)


def test_unknown_placeholders_are_named_once_in_order() -> None:
    kind = KINDS["welcome"]
    text = "{first_name} {b} {amount} {a} {b} { spaced } {}"
    assert unknown_placeholders(kind, text) == ["b", "a", ""]
    with pytest.raises(TemplateError, match=r"Unknown placeholders \{b\}, \{a\}, \{\}\."):
        check_copy(kind, "Hi", text)
    with pytest.raises(TemplateError, match="one line"):
        check_copy(kind, "Hi\nthere", "Body")


def test_values_stay_text_in_markdown_but_links_stay_links(config: Config) -> None:
    values = {"first_name": "*Ada* [x](http://evil.example)", "fix_link": "https://pay.example/i"}
    body = fill("Dear {first_name}, [pay]({fix_link}) {unknown}", values, markdown=True)
    assert body == (
        "Dear \\*Ada\\* \\[x\\]\\(http://evil.example\\), [pay](https://pay.example/i) {unknown}"
    )
    email = lifecycle_email(
        config,
        LifecycleCopy("Hi {first_name}", "Dear {first_name}, [pay]({fix_link})"),
        kind="dunning_day_0",
        to="ada@example.org",
        values=values,
        unsubscribe_url="https://example.org/lifecycle/unsubscribe/t",
    )
    assert email.subject == "Hi *Ada* [x](http://evil.example)"
    assert email.html is not None
    assert '<a href="https://pay.example/i"' in email.html
    assert 'href="http://evil.example"' not in email.html
    assert email.headers["List-Unsubscribe"] == "<https://example.org/lifecycle/unsubscribe/t>"


@given(st.integers(min_value=1, max_value=10_000_000))
def test_the_monthly_suggestion_is_whole_and_at_least_the_minimum(gift: int) -> None:
    config = Config(min_amount_cents=100)
    suggested = suggested_monthly_cents(gift, config)
    assert suggested >= 100 and suggested % 100 == 0
    assert suggested <= max(100, gift)


def test_links_refuse_tampering(config: Config) -> None:
    link = tracked_link(config, 7, "https://invoice.example/in_1")
    token = link.rsplit("/", 1)[1]
    assert read_tracked_link(config, token) == (7, "https://invoice.example/in_1")
    assert read_tracked_link(config, token[:-2]) is None
    assert read_tracked_link(config.with_overrides(secret_key="x" * 40), token) is None
    assert (
        read_tracked_link(config, tracked_link(config, 7, "javascript:alert(1)").rsplit("/", 1)[1])
        is None
    )
    unsubscribe = unsubscribe_link(config, 3, "dunning").rsplit("/", 1)[1]
    request = read_unsubscribe_link(config, unsubscribe)
    assert request is not None and (request.supporter_id, request.group) == (3, "dunning")
    # A tracked-link token is not an unsubscribe token (different salts).
    assert read_unsubscribe_link(config, token) is None
