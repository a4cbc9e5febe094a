"""Unit tests: form parsing, calendar months, signatures."""

from __future__ import annotations

import calendar
import datetime as dt

import stripe
from hypothesis import given
from hypothesis import strategies as st

from stripe_standin.clock import add_months
from stripe_standin.forms import parse_nested
from stripe_standin.money import format_amount
from stripe_standin.webhooks import sign_payload


def test_parse_nested() -> None:
    parsed = parse_nested(
        [
            ("line_items[0][price_data][unit_amount]", "500"),
            ("line_items[0][price_data][product_data][name]", "Gift"),
            ("line_items[0][quantity]", "1"),
            ("metadata[intent_id]", "12"),
            ("expand[0]", "payments"),
            ("expand[]", "customer"),
            ("pause_collection", ""),
            ("created[gte]", "10"),
        ]
    )
    assert parsed == {
        "line_items": [
            {
                "price_data": {"unit_amount": "500", "product_data": {"name": "Gift"}},
                "quantity": "1",
            }
        ],
        "metadata": {"intent_id": "12"},
        "expand": ["payments", "customer"],
        "pause_collection": "",
        "created": {"gte": "10"},
    }


def test_add_months_clamps() -> None:
    jan31 = int(dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC).timestamp())
    feb = dt.datetime.fromtimestamp(add_months(jan31, 1), dt.UTC)
    assert (feb.month, feb.day) == (2, 28)
    mar = dt.datetime.fromtimestamp(add_months(jan31, 2), dt.UTC)
    assert (mar.month, mar.day) == (3, 31)
    leap = int(dt.datetime(2028, 2, 29, tzinfo=dt.UTC).timestamp())
    nxt = dt.datetime.fromtimestamp(add_months(leap, 12), dt.UTC)
    assert (nxt.year, nxt.month, nxt.day) == (2029, 2, 28)


@given(st.integers(0, 4_000_000_000), st.integers(0, 60))
def test_add_months_property(ts: int, months: int) -> None:
    start = dt.datetime.fromtimestamp(ts, dt.UTC)
    end = dt.datetime.fromtimestamp(add_months(ts, months), dt.UTC)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
    assert end.day == min(start.day, calendar.monthrange(end.year, end.month)[1])
    assert end.time() == start.time()


def test_format_amount() -> None:
    assert format_amount(500, "eur") == "€5.00"
    assert format_amount(123456, "usd") == "$1,234.56"
    assert format_amount(500, "jpy") == "500 JPY"


def test_signature_verifies_with_stripe_library() -> None:
    body = '{"id": "evt_1", "object": "event", "type": "ping", "data": {"object": {}}}'
    header = sign_payload(body, "whsec_x")
    event = stripe.Webhook.construct_event(body, header, "whsec_x")
    assert event.id == "evt_1"
