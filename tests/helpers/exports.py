"""Staff CSV downloads, as the pages start them."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def export_report(
    client: FlaskClient, *, report: str, start: str, end: str, group: str = "month"
) -> TestResponse:
    query = {"report": report, "start": start, "end": end, "group": group}
    return client.get("/staff/reports.csv", query_string=query)


def export_newsletter(client: FlaskClient, **filters: str) -> TestResponse:
    return client.get("/staff/newsletter/export.csv", query_string=filters)
