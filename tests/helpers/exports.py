"""Staff CSV downloads, started as the pages start them: a POST with the page's CSRF token."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from helpers.clients import csrf_token_from


def _post(client: FlaskClient, page: str, path: str, data: dict[str, str]) -> TestResponse:
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def export_report(
    client: FlaskClient, *, report: str, start: str, end: str, group: str = "month"
) -> TestResponse:
    data = {"report": report, "start": start, "end": end, "group": group}
    return _post(client, "/staff/reports", "/staff/reports.csv", data)


def export_newsletter(client: FlaskClient, **filters: str) -> TestResponse:
    return _post(client, "/staff/newsletter", "/staff/newsletter/export.csv", filters)


def export_report_query(client: FlaskClient, query: str) -> TestResponse:
    """The report export for a query string as the report page's links used to carry it."""
    from urllib.parse import parse_qsl

    return _post(client, "/staff/reports", "/staff/reports.csv", dict(parse_qsl(query)))
