"""A NUL character in a query string: PostgreSQL can neither store nor compare one, so a search
that passes it along fails in the database. Every GET route without path arguments, asked with a
NUL in each query parameter the views read, as a reader, a supporter and an admin: never a 500 or
503 (the route walk's generated queries found two such searches)."""

from __future__ import annotations

import pytest
from flask import Flask

from helpers.factories import make_supporter
from helpers.staff import make_staff, sign_in_supporter, staff_client
from membership.models import StaffRole

pytestmark = pytest.mark.usefixtures("app_context")

PARAMETERS = (
    "q", "source", "status", "campaign", "variant", "start", "end", "group", "page", "next",
    "amount", "frequency", "kind", "report", "updated_since", "cursor", "limit", "audience",
)  # fmt: skip


def test_a_nul_in_any_query_parameter_is_never_a_server_error(app: Flask) -> None:
    reader = app.test_client()
    supporter = app.test_client()
    sign_in_supporter(supporter, make_supporter("nul@example.org").id)
    admin = staff_client(app, make_staff(StaffRole.ADMIN))
    routes = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments
    ]
    failures = []
    for client in (reader, supporter, admin):
        for path in routes:
            for name in PARAMETERS:
                status = client.get(path, query_string={name: "a\x00b"}).status_code
                if status >= 500:
                    failures.append((path, name, status))
    assert failures == []
