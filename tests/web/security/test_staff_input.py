"""Finding 6: staff pages answer bad query strings with a clear 400, never a 500; a walk of every
staff route with generated query strings proves it for all of them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.exports import export_report_query
from helpers.staff import make_staff, staff_client
from membership.models import StaffRole

pytestmark = pytest.mark.usefixtures("app_context")


@pytest.mark.parametrize("csv", [False, True])
def test_a_report_range_outside_the_calendar_is_a_400_naming_the_allowed_range(
    app_factory: Callable[..., Flask], csv: bool
) -> None:
    """The reproduction: start=0001-01-01 in a time zone east of UTC overflowed (500)."""
    app = app_factory(timezone="Asia/Tokyo")
    client = staff_client(app, make_staff(StaffRole.FINANCE))
    for query in ("start=0001-01-01&end=2026-01-31", "start=2026-01-01&end=9999-12-31"):
        query += "&group=month"
        if csv:
            response = export_report_query(client, query + "&report=money")
        else:
            response = client.get(f"/staff/reports?{query}")
        assert response.status_code == 400, (query, response.status_code)
        assert "between 2000-01-01 and 2100-01-01" in response.get_data(as_text=True)


def test_the_newsletter_list_ignores_query_arguments_it_does_not_know(app: Flask) -> None:
    """The reproduction: ?endpoint=x reached url_for as a keyword and raised TypeError (500)."""
    client = staff_client(app, make_staff(StaffRole.EDITOR))
    for query in ("endpoint=x", "endpoint=x&page=2", "_external=1&_scheme=javascript", "values=1"):
        response = client.get(f"/staff/newsletter?{query}")
        assert response.status_code == 200, query
        assert "javascript:" not in response.get_data(as_text=True)


_QUERY_KEYS = st.sampled_from(
    ["start", "end", "group", "report", "q", "page", "status", "source", "endpoint", "done",
     "action", "next", "_external", "_anchor", "values", "kind", "x"]
)  # fmt: skip
_QUERY_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "-1", "0", "99999999999999999999",
                     "month", "week", "day", "donations", "confirmed", "%00", "1e308", "nan"]),
)  # fmt: skip
_QUERIES = st.lists(st.tuples(_QUERY_KEYS, _QUERY_VALUES), max_size=5)


def _staff_get_paths(app: Flask) -> list[str]:
    """Every staff GET route, with the ids of rows that do not exist (a 404 is an answer too)."""
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff") and "GET" in (rule.methods or ()):
            paths.append(rule.build({name: 1 for name in rule.arguments}, append_unknown=False)[1])
    return sorted(paths)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=_QUERIES)
def test_every_staff_route_with_generated_query_strings_never_answers_500(
    app: Flask, query: list[tuple[str, str]]
) -> None:
    """Each generated query string goes to every staff GET route, as an admin (who may open all)."""
    client = staff_client(app, make_staff(StaffRole.ADMIN, "walker@newsroom.example"))
    for path in _staff_get_paths(app):
        response = client.get(path, query_string=query)
        assert response.status_code < 500, (path, query, response.status_code)
